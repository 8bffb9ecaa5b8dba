import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from taizhang.core import periodic


class Command(BaseCommand):
    help = "按周期将定时任务（超时督办、日报、到期清理……）放入后台队列，直到被中断"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="每个任务放入一次后退出")
        parser.add_argument("--tick", type=float, default=30.0, help="检查间隔（秒）")

    def handle(self, *args: object, **options: object) -> None:
        last: dict[str, datetime] = {}
        while True:
            now = timezone.now()
            for job in periodic.jobs():
                if job.name not in last or now - last[job.name] >= job.every:
                    job.task.enqueue()
                    last[job.name] = now
                    self.stdout.write(f"{now:%Y-%m-%d %H:%M:%S} 已排队 {job.name}")
            if options["once"]:
                return
            time.sleep(float(str(options["tick"])))
