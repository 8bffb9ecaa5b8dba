from django.urls import URLPattern, URLResolver

app_name = "establishments"
urlpatterns: list[URLPattern | URLResolver] = []
