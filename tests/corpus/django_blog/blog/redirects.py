"""Login and language redirects (open redirect corpus)."""

from urllib.parse import urlparse

from django.http import HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

HOME = "https://blog.example.com/"


def after_login(request):
    return HttpResponseRedirect(request.GET.get("next", "/"))  # label: open-redirect


def after_login_checked(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)  # label: safe open-redirect


def after_logout(request):
    return redirect(request.POST["return_to"])  # label: open-redirect


def after_logout_local(request):
    target = request.POST["return_to"]
    if urlparse(target).netloc:
        return redirect("/")
    return redirect(target)  # label: safe open-redirect


def moved(request):
    return HttpResponsePermanentRedirect(request.GET["to"])  # label: open-redirect


def moved_to_post(request, slug):
    return HttpResponsePermanentRedirect(reverse("post", args=[slug]))  # label: safe open-redirect


def language(request):
    back = request.META.get("HTTP_REFERER")
    return redirect(back)  # label: open-redirect


def language_home(request):
    return redirect("/" + request.GET["lang"] + "/")  # label: open-redirect


def language_page(request):
    return redirect("/lang/" + request.GET["lang"] + "/")  # label: safe open-redirect


def share(request):
    return redirect(f"https://{request.GET['host']}/shared")  # label: open-redirect


def share_fixed(request):
    return redirect(f"{HOME}shared?post={request.GET['post']}")  # label: safe open-redirect


def out(request):
    url = request.GET["url"]
    response = HttpResponse(status=302)
    response["Location"] = url  # label: open-redirect
    return response


def out_fixed(request):
    response = HttpResponse(status=302)
    response["Location"] = "/goodbye/"  # label: safe open-redirect
    return response


def profile(request):
    user = request.GET["user"]
    return redirect("//" + user)  # label: open-redirect


def profile_path(request):
    user = request.GET["user"]
    return redirect("/users/" + user)  # label: safe open-redirect


def campaign(request):
    destination = request.COOKIES.get("campaign")
    return HttpResponseRedirect(destination)  # label: open-redirect


def campaign_known(request):
    destination = request.COOKIES.get("campaign")
    if destination not in {"/spring/", "/summer/"}:
        destination = "/"
    return HttpResponseRedirect(destination)  # label: safe open-redirect


def bounce(request):
    parts = urlparse(request.GET["u"])
    return redirect(parts.geturl())  # label: open-redirect


def bounce_same_host(request):
    target = request.GET["u"]
    if urlparse(target).netloc != "":
        return redirect("/")
    return redirect(target)  # label: safe open-redirect


def next_page(request):
    return redirect(request.GET.get("next") or "/")  # label: open-redirect


def next_page_named(request):
    return redirect("post-list")  # label: safe open-redirect
