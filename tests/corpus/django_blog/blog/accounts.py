"""Sign-in, password reset and API keys."""

import hashlib
import hmac
import logging

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.contrib.auth.hashers import make_password
from django.http import HttpResponseForbidden, JsonResponse
from django.views import View

from blog.models import Profile

logger = logging.getLogger(__name__)


def sign_in(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden()
    request.session["user_id"] = user.pk  # label: session-fixation
    return JsonResponse({"ok": True})


def sign_in_rotating(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden()
    request.session.cycle_key()
    request.session["user_id"] = user.pk  # label: safe session-fixation
    return JsonResponse({"ok": True})


def sign_in_builtin(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden()
    login(request, user)
    request.session["user"] = user.username  # label: safe session-fixation
    return JsonResponse({"ok": True})


def sso_return(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("sessionid", request.GET["sid"], secure=True, httponly=True)  # label: session-fixation, safe security-misconfiguration
    return response


def remember_language(request):
    request.session["language"] = request.POST.get("language", "en")  # label: safe session-fixation
    return JsonResponse({"ok": True})


def reset_password(request):
    profile = Profile.objects.get(user__username=request.POST["username"])
    token = request.POST["token"]
    if token != profile.reset_token:  # label: broken-auth
        return HttpResponseForbidden()
    logger.info("password reset for %s with token %s", profile.user.username, token)  # label: sensitive-data-exposure
    profile.user.password = make_password(request.POST["new_password"])  # label: safe broken-auth
    profile.user.save()
    return JsonResponse({"ok": True})


def reset_password_safe(request):
    profile = Profile.objects.get(user__username=request.POST["username"])
    token = request.POST["token"]
    if not hmac.compare_digest(token, profile.reset_token):  # label: safe broken-auth
        return HttpResponseForbidden()
    logger.info("password reset for %s", profile.user.username)  # label: safe sensitive-data-exposure
    return JsonResponse({"ok": True})


def legacy_password_hash(password):
    return hashlib.md5(password.encode()).hexdigest()  # label: broken-auth


def change_password(request):
    new_password = request.POST["new_password"]
    if len(new_password) < 6:  # label: broken-auth
        return JsonResponse({"error": "too short"}, status=400)
    confirm = request.POST["confirm_password"]
    if new_password != confirm:  # label: safe broken-auth
        return JsonResponse({"error": "passwords differ"}, status=400)
    request.user.set_password(new_password)
    request.user.save()
    return JsonResponse({"ok": True})


def change_password_strict(request):
    new_password = request.POST["new_password"]
    if len(new_password) < 12:  # label: safe broken-auth
        return JsonResponse({"error": "too short"}, status=400)
    request.user.set_password(new_password)
    return JsonResponse({"ok": True})


class ApiKeyView(View):
    def dispatch(self, request, *args, **kwargs):
        if request.headers.get("X-Api-Key") != settings.INTERNAL_API_KEY:  # label: broken-auth
            return HttpResponseForbidden()
        return super().dispatch(request, *args, **kwargs)


class ApiKeyViewSafe(View):
    def dispatch(self, request, *args, **kwargs):
        if not hmac.compare_digest(request.headers.get("X-Api-Key", ""), settings.INTERNAL_API_KEY):  # label: safe broken-auth
            return HttpResponseForbidden()
        return super().dispatch(request, *args, **kwargs)
