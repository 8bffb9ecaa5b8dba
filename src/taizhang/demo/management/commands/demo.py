import time
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from taizhang.demo import scenario


class Command(BaseCommand):
    help = (
        "重建演示数据（文峰区复工复产场景，按报道中 2020 年 1 月 20 日至 3 月 19 日的时间线，平移到以“今天”为止的 59 天），"
        "打印各角色登录账号并写入 var/demo/logins.json"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            help="演示场景的“今天”（年-月-日），默认为实际的今天；如 --today 2020-03-19 重现报道当天的数据",
        )
        parser.add_argument("--keep", action="store_true", help="不清空现有数据（默认会清空后重建）")

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        try:
            today = date.fromisoformat(str(options["today"])) if options["today"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--today 应为 年-月-日，如 2020-03-19（收到 {options['today']}）") from None
        if today > timezone.localdate():
            raise CommandError(f"--today 不能晚于实际的今天（{timezone.localdate():%Y-%m-%d}）")
        if not options["keep"]:
            self.stdout.write("清空现有数据……")
            call_command("flush", interactive=False, verbosity=0)
        self.stdout.write(f"生成演示场景，“今天”为 {today:%Y-%m-%d}：")
        ctx = scenario.build(today=today, progress=lambda m: self.stdout.write(f"  · {m}"))
        path = scenario.write_logins(ctx)
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成，用时 {time.monotonic() - started:.1f} 秒"))
        now = timezone.localtime(ctx.now)
        self.stdout.write(f"场景时间：{ctx.start:%Y-%m-%d} 至 {now:%Y-%m-%d %H:%M}（报道中的 2020-01-20 至 2020-03-19）")
        self.stdout.write("\n登录账号（演示用，密码相同）：")
        for role, entries in ctx.logins.items():
            if not isinstance(entries, list):  # a plain value, e.g. open311_api_key
                self.stdout.write(f"  {role:<12} {entries}")
                continue
            for e in entries:
                extra = f"  TOTP密钥 {e['totp_secret']}" if "totp_secret" in e else ""
                self.stdout.write(f"  {role:<12} {e['username']:<16} {e['password']}  {e['scope']}{extra}")
        self.stdout.write(f"\n账号清单已写入 {path}")
