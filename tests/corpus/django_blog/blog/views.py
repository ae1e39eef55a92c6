"""Function-based views of the blog."""

import base64
import json
import logging
import os
import pickle
import subprocess
import traceback
import urllib.request
from urllib.parse import quote

import requests
from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from blog import services
from blog.models import Post

logger = logging.getLogger(__name__)


def search(request):
    q = request.GET.get("q", "")
    posts = Post.objects.raw("SELECT * FROM blog_post WHERE title LIKE '%%%s%%'" % q)  # label: sql-injection
    return render(request, "blog/search.html", {"posts": posts, "q": q})  # label: safe xss


def archive(request):
    year = request.GET.get("year", "2024")
    posts = Post.objects.raw("SELECT * FROM blog_post WHERE EXTRACT(year FROM created) = %s", [year])  # label: safe sql-injection
    return render(request, "blog/archive.html", {"posts": posts})


def by_title(request):
    title = request.GET.get("title", "")
    posts = Post.objects.filter(title__icontains=title)  # label: safe sql-injection
    return render(request, "blog/list.html", {"posts": posts})


def tagged(request, tag):
    rows = services.posts_with_tag(request.GET.get("tag", tag))  # label: sql-injection
    return JsonResponse({"posts": rows})


def tagged_safe(request):
    rows = services.posts_with_tag_safe(request.GET.get("tag", ""))  # label: safe sql-injection
    return JsonResponse({"posts": rows})


def popular(request):
    limit = int(request.GET.get("limit", "10"))
    return JsonResponse({"posts": services.popular_posts(limit)})  # label: safe sql-injection


def author(request):
    return JsonResponse({"stats": services.author_stats(request.GET["author"])})  # label: sql-injection


def sorted_posts(request):
    order = request.GET.get("order", "created")
    posts = Post.objects.extra(order_by=[order])  # label: sql-injection
    return render(request, "blog/list.html", {"posts": posts})


def preview_comment(request):
    body = request.POST.get("body", "")
    return HttpResponse(f"<div class='comment'>{body}</div>")  # label: xss


def preview_comment_escaped(request):
    body = request.POST.get("body", "")
    return HttpResponse(f"<div class='comment'>{escape(body)}</div>")  # label: safe xss


def preview_comment_format(request):
    body = request.POST.get("body", "")
    return HttpResponse(format_html("<div class='comment'>{}</div>", body))  # label: safe xss


def signature(request):
    sig = request.GET.get("sig", "")
    return render(request, "blog/sig.html", {"sig": mark_safe(sig)})  # label: xss


def raw_text(request):
    return HttpResponse(request.GET.get("text", ""), content_type="text/plain")  # label: safe xss


def post_json(request, slug):
    post = get_object_or_404(Post, slug=slug)
    return JsonResponse({"title": post.title, "q": request.GET.get("q")})  # label: safe xss


def avatar(request):
    name = request.GET.get("name", "default.png")
    return FileResponse(open(os.path.join(settings.AVATAR_ROOT, name), "rb"))  # label: path-traversal


def avatar_safe(request):
    name = os.path.basename(request.GET.get("name", "default.png"))
    return FileResponse(open(os.path.join(settings.AVATAR_ROOT, name), "rb"))  # label: safe path-traversal


def export(request, post_id):
    fmt = request.GET.get("format", "pdf")
    if fmt not in ("pdf", "epub", "html"):
        return HttpResponse(status=400)
    target = os.path.join(settings.EXPORT_ROOT, f"{post_id}.{fmt}")
    subprocess.run(["pandoc", f"/srv/blog/posts/{post_id}.md", "-o", target], check=True)  # label: safe command-injection
    return FileResponse(open(target, "rb"))  # label: safe path-traversal


def export_shell(request):
    fmt = request.GET.get("format", "pdf")
    subprocess.run("pandoc /srv/blog/posts/latest.md -t " + fmt, shell=True, check=True)  # label: command-injection
    return HttpResponse(status=204)


def link_preview(request):
    url = request.GET["url"]
    page = requests.get(url, timeout=5)  # label: ssrf
    return JsonResponse({"title": page.text[:200]})


def oembed(request):
    url = request.GET["url"]
    data = requests.get(f"https://noembed.com/embed?url={quote(url)}", timeout=5).json()  # label: safe ssrf
    return JsonResponse(data)


def import_feed(request):
    with urllib.request.urlopen(request.GET["feed"], timeout=5) as response:  # label: ssrf
        return HttpResponse(response.read(), content_type="application/rss+xml")


def restore_draft(request):
    draft = pickle.loads(base64.b64decode(request.POST["draft"]))  # label: insecure-deserialization
    return JsonResponse({"draft": draft})


def restore_draft_json(request):
    draft = json.loads(base64.b64decode(request.POST["draft"]))  # label: safe insecure-deserialization
    return JsonResponse({"draft": draft})


def publish(request):
    try:
        post = Post.objects.create(title=request.POST["title"], body=request.POST["body"])
    except Exception:
        return JsonResponse({"error": traceback.format_exc()}, status=500)  # label: sensitive-data-exposure
    return JsonResponse({"id": post.id})


def publish_quiet(request):
    try:
        post = Post.objects.create(title=request.POST["title"], body=request.POST["body"])
    except Exception:
        logger.exception("publish failed")
        return JsonResponse({"error": "could not publish"}, status=500)  # label: safe sensitive-data-exposure
    return JsonResponse({"id": post.id})
