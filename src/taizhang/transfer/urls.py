from django.urls import URLPattern, URLResolver

app_name = "transfer"
urlpatterns: list[URLPattern | URLResolver] = []
