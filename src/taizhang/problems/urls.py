from django.urls import URLPattern, URLResolver

app_name = "problems"
urlpatterns: list[URLPattern | URLResolver] = []
