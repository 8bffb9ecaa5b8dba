import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "启动网页服务（gunicorn）、后台任务进程与定时任务，直到 Ctrl-C"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: object, **options: object) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "taizhang.config.settings.local")}
        py = sys.executable
        procs = [
            subprocess.Popen(  # noqa: S603
                [
                    py,
                    "-m",
                    "gunicorn",
                    "taizhang.config.wsgi:application",
                    "--bind",
                    str(options["bind"]),
                    "--workers",
                    str(options["workers"]),
                    "--access-logfile",
                    "-",
                ],
                env=env,
            ),
            subprocess.Popen([py, "-m", "taizhang.manage", "db_worker"], env=env),  # noqa: S603
            subprocess.Popen([py, "-m", "taizhang.manage", "scheduler"], env=env),  # noqa: S603
        ]
        self.stdout.write(
            self.style.SUCCESS(
                f"台账已启动：http://{options['bind']}/  （数据：{settings.DATABASES['default']['NAME']}；Ctrl-C 停止）"
            )
        )
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        failed = [p.args for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed:
            self.stderr.write(f"进程异常退出：{failed}")
