from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("otp/", views.otp_view, name="otp"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.account_view, name="me"),
    path("password/", views.password_change_view, name="password"),
    path("users/", views.users_view, name="users"),
    path("posts/", views.posts_view, name="posts"),
    path("lockouts/", views.lockouts_view, name="lockouts"),
]
