from django.urls import path

from . import views

app_name = "establishments"
urlpatterns = [
    path("", views.establishment_list, name="list"),
    path("new/", views.establishment_create, name="create"),
    path("road-sections/", views.road_section_options, name="road-options"),
    path("<int:pk>/", views.establishment_detail, name="detail"),
    path("<int:pk>/edit/", views.establishment_edit, name="edit"),
    path("<int:pk>/transition/", views.establishment_transition, name="transition"),
    path("<int:pk>/reveal/<str:field>/", views.establishment_reveal, name="reveal"),
]
