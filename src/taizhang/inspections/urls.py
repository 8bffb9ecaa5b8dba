from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign-new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="campaign-start"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign-close"),
    path("campaigns/<int:pk>/refresh/", views.campaign_refresh, name="campaign-refresh"),
    path("campaigns/<int:pk>/version/", views.campaign_version, name="campaign-version"),
    path("campaigns/<int:pk>/targets/", views.campaign_targets, name="campaign-targets"),
    path("targets/<int:pk>/", views.target_detail, name="target"),
    path("targets/<int:pk>/inspect/", views.target_inspect, name="inspect"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/", views.visit_new, name="visit-new"),
    path("visits/new/<int:establishment>/<int:version>/", views.visit_form, name="visit-form"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("checklists/", views.template_list, name="templates"),
    path("checklists/new/", views.template_create, name="template-new"),
    path("checklists/<int:pk>/", views.template_detail, name="template"),
    path("checklists/<int:pk>/edit/", views.template_edit, name="template-edit"),
    path("checklists/<int:pk>/publish/", views.template_publish, name="template-publish"),
    path("checklists/<int:pk>/discard/", views.template_discard, name="template-discard"),
    path("figures/", views.figures, name="figures"),
]
