"""Views of djsite."""

import traceback

from django.db import connection
from django.http import HttpResponse
from django.utils.safestring import mark_safe


def profile(request):
    bio = request.GET.get("bio", "")
    return HttpResponse("<p>" + bio + "</p>")


def note(request):
    return HttpResponse(mark_safe(f"<em>{request.GET['note']}</em>"))


def user_by_name(request):
    name = request.GET["name"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM auth_user WHERE username = '{name}'")
        row = cursor.fetchone()
    return HttpResponse(str(row))


def report(request):
    try:
        return HttpResponse(build_report(request.GET["id"]))
    except Exception:
        return HttpResponse(traceback.format_exc(), status=500)


def build_report(report_id):
    return f"report {int(report_id)}"


def login_view(request):
    user = authenticate_user(request.POST["username"], request.POST["password"])
    if user is None:
        return HttpResponse("no", status=401)
    request.session["user_id"] = user.id
    return HttpResponse("ok")


def authenticate_user(username, password):
    return None
