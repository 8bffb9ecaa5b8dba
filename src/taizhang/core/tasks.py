from django.core.management import call_command
from django_tasks import task


@task()
def clear_expired_sessions() -> None:
    call_command("clearsessions")
