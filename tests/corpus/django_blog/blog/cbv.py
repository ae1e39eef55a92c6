"""Class-based views."""

from django.db import connection
from django.http import JsonResponse
from django.views import View


class PostStatsView(View):
    def get(self, request, *args, **kwargs):
        slug = self.kwargs["slug"]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT views FROM blog_post WHERE slug = '{slug}'")  # label: sql-injection
            row = cursor.fetchone()
        return JsonResponse({"views": row[0] if row else 0})


class PostStatsSafeView(View):
    def get(self, request, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT views FROM blog_post WHERE slug = %s", [self.kwargs["slug"]])  # label: safe sql-injection
            row = cursor.fetchone()
        return JsonResponse({"views": row[0] if row else 0})


class SearchView(View):
    def get(self, request):
        term = self.request.GET.get("term", "")
        return JsonResponse({"results": self.lookup(term)})  # label: sql-injection

    def lookup(self, term):
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM blog_post WHERE body LIKE '%%" + term + "%%'")
            return cursor.fetchall()
