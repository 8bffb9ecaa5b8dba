"""API routes of this app, included under /api/v1/ by taizhang.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("problem-categories", api.CategoryListApi.as_view(), name="problem-categories"),
    path("problems/", api.ProblemListApi.as_view(), name="problems"),
    path("problems/<int:pk>", api.ProblemDetailApi.as_view(), name="problem"),
    path("problems/<int:pk>/transition", api.ProblemTransitionApi.as_view(), name="problem-transition"),
    path("problems/<int:pk>/reassign", api.ProblemReassignApi.as_view(), name="problem-reassign"),
    path("problems/<int:pk>/comments", api.ProblemCommentApi.as_view(), name="problem-comments"),
    path("problems/<int:pk>/tasks", api.ProblemTaskApi.as_view(), name="problem-tasks"),
    path("problems/<int:pk>/tasks/<int:task_pk>/reply", api.TaskReplyApi.as_view(), name="problem-task-reply"),
]
