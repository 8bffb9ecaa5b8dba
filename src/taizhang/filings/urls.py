from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "filings"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.filing_list, name="list"),
    path("portal/", views.portal, name="portal"),
    path("queue/", views.queue, name="queue"),
    path("overdue/", views.overdue, name="overdue"),
    path("figures/", views.figures, name="figures"),
    path("new/", views.new, name="new"),
    path("start/<int:establishment_id>/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/files/<int:aid>/", views.attachment, name="attachment"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/new/<int:establishment_id>/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/confirm/", views.account_decide, {"decision": "confirm"}, name="account_confirm"),
    path("accounts/<int:pk>/reject/", views.account_decide, {"decision": "reject"}, name="account_reject"),
    path("register/", views.register, name="register"),
]
