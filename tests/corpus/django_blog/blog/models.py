from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    body = models.TextField()
    tags = models.CharField(max_length=200, blank=True)
    views = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)


class Profile(models.Model):
    user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
    api_key = models.CharField(max_length=64)
    reset_token = models.CharField(max_length=64, blank=True)
