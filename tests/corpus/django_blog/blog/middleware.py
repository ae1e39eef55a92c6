"""Response headers for the embeddable widget."""

from django.conf import settings


class WidgetCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = request.META.get("HTTP_ORIGIN", "")  # label: cors-misconfiguration
        response["Access-Control-Allow-Credentials"] = "true"
        return response


class TrustedCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origin = request.META.get("HTTP_ORIGIN", "")
        if origin in settings.CORS_TRUSTED_ORIGINS:
            response["Access-Control-Allow-Origin"] = origin  # label: safe cors-misconfiguration
            response["Access-Control-Allow-Credentials"] = "true"
        return response


class StatsCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"  # label: cors-misconfiguration
        response["Access-Control-Allow-Credentials"] = "true"
        return response


class PublicFeedCorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/feed/"):
            response["Access-Control-Allow-Origin"] = "*"  # label: safe cors-misconfiguration
        return response
