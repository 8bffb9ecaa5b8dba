from django.urls import path

from . import views

app_name = "problems"
urlpatterns = [
    path("", views.problem_list, name="list"),
    path("mine/", views.my_queue, name="mine"),
    path("unit/", views.unit_queue, name="unit"),
    path("verify/", views.verify_queue, name="verify"),
    path("overdue/", views.overdue_list, name="overdue"),
    path("watch/", views.watch_list, name="watch"),
    path("new/", views.problem_new, name="new"),
    path("new/establishments/", views.establishment_options, name="establishment_options"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/", views.problem_detail, name="detail"),
    path("<int:pk>/transition/", views.problem_transition, name="transition"),
    path("<int:pk>/comment/", views.problem_comment, name="comment"),
    path("<int:pk>/reassign/", views.problem_reassign, name="reassign"),
    path("<int:pk>/tasks/", views.task_add, name="task_add"),
    path("<int:pk>/tasks/<int:task_pk>/reply/", views.task_reply, name="task_reply"),
    path("<int:pk>/rectification/require/", views.rectification_require, name="rect_require"),
    path("<int:pk>/rectification/report/", views.rectification_report, name="rect_report"),
    path("<int:pk>/rectification/verify/", views.rectification_verify, name="rect_verify"),
    path("<int:pk>/merge/", views.problem_merge, name="merge"),
    path("<int:pk>/follow/", views.problem_follow, name="follow"),
]
