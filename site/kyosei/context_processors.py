from django.conf import settings
from django.http import HttpRequest


def kyosei(request: HttpRequest) -> dict:
    return {"KYOSEI_DEMO": settings.KYOSEI_DEMO}
