"""JSON endpoints of the blog (CSRF corpus)."""

import hashlib
import hmac
import os

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from blog.models import Comment, Post

WEBHOOK_KEY = os.environ.get("WEBHOOK_KEY", "").encode()


@csrf_exempt  # label: csrf
def add_comment(request):
    Comment.objects.create(post_id=request.POST["post"], body=request.POST["body"])
    return JsonResponse({"ok": True})


@csrf_protect  # label: safe csrf
def add_comment_protected(request):
    Comment.objects.create(post_id=request.POST["post"], body=request.POST["body"])
    return JsonResponse({"ok": True})


@csrf_exempt  # label: csrf
@require_POST
def like(request, pk):
    post = Post.objects.get(pk=pk)
    post.likes += 1
    post.save()
    return JsonResponse({"likes": post.likes})


@csrf_exempt  # label: safe csrf
@require_GET
def search(request):
    return JsonResponse({"q": request.GET.get("q", "")})


@csrf_exempt  # label: csrf
def delete_post(request, pk):
    if request.method == "DELETE":
        Post.objects.filter(pk=pk).delete()
    return JsonResponse({"deleted": pk})


@csrf_exempt  # label: safe csrf
def stats(request):
    return JsonResponse({"posts": Post.objects.count()})


@csrf_exempt  # label: csrf
def update_profile(request):
    request.user.email = request.POST["email"]
    request.user.save()
    return JsonResponse({"ok": True})


@csrf_exempt  # label: safe csrf
def payment_webhook(request):
    expected = hmac.new(WEBHOOK_KEY, request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
        return JsonResponse({"ok": False}, status=403)
    Comment.objects.create(post_id=1, body=request.body.decode())
    return JsonResponse({"ok": True})


@csrf_exempt  # label: csrf
def upload_avatar(request):
    request.user.profile.avatar = request.FILES["avatar"]
    request.user.profile.save()
    return JsonResponse({"ok": True})


@csrf_exempt  # label: safe csrf
def feed(request):
    posts = list(Post.objects.values("title")[:20])
    return JsonResponse({"posts": posts})


@csrf_exempt  # label: csrf
def bulk_import(request):
    rows = request.body.decode().splitlines()
    Post.objects.bulk_create([Post(title=row) for row in rows])
    return JsonResponse({"imported": len(rows)})


def publish(request, pk):
    post = Post.objects.get(pk=pk)
    post.published = True
    post.save()  # label: safe csrf
    return JsonResponse({"ok": True})
