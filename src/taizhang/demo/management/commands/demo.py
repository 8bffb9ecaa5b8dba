import time
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from taizhang.demo import scenario


class Command(BaseCommand):
    help = "重建演示数据（文峰区 2020 年复工复产场景），打印各角色登录账号并写入 var/demo/logins.json"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", default="2020-03-19", help="演示场景的“今天”，默认 2020-03-19")
        parser.add_argument("--keep", action="store_true", help="不清空现有数据（默认会清空后重建）")

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        if not options["keep"]:
            self.stdout.write("清空现有数据……")
            call_command("flush", interactive=False, verbosity=0)
        today = date.fromisoformat(str(options["today"]))
        ctx = scenario.build(today=today, progress=lambda m: self.stdout.write(f"  · {m}"))
        path = scenario.write_logins(ctx)
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成，用时 {time.monotonic() - started:.1f} 秒"))
        self.stdout.write("\n登录账号（演示用，密码相同）：")
        for role, entries in ctx.logins.items():
            if not isinstance(entries, list):  # a plain value, e.g. open311_api_key
                self.stdout.write(f"  {role:<12} {entries}")
                continue
            for e in entries:
                extra = f"  TOTP密钥 {e['totp_secret']}" if "totp_secret" in e else ""
                self.stdout.write(f"  {role:<12} {e['username']:<16} {e['password']}  {e['scope']}{extra}")
        self.stdout.write(f"\n账号清单已写入 {path}")
