"""`taizhang open311_client --name …`: register an Open311 client and print its api_key once."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taizhang.core.errors import ApplicationError
from taizhang.problems.open311.models import Open311Client
from taizhang.problems.open311.services import client_register, client_revoke


class Command(BaseCommand):
    help = "登记 Open311 接入应用并打印其 api_key（只显示这一次，系统只保存摘要）；--list 列出，--revoke 吊销"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="接入应用名称，如“12345 市民热线 App”")
        parser.add_argument("--organisation", default="", help="所属单位")
        parser.add_argument("--note", default="", help="说明")
        parser.add_argument("--list", action="store_true", help="列出已登记的接入应用")
        parser.add_argument("--revoke", metavar="NAME", help="吊销该名称的接入应用")

    def handle(self, *args: object, **options: object) -> None:
        if options["list"]:
            for c in Open311Client.objects.order_by("name"):
                state = "已吊销" if c.revoked_at else ("启用" if c.is_active else "停用")
                self.stdout.write(f"{c.prefix}…  {c.name}  {c.organisation}  {state}  {c.created_at:%Y-%m-%d %H:%M}")
            return
        if options["revoke"]:
            client = Open311Client.objects.filter(name=options["revoke"]).first()
            if client is None:
                raise CommandError(f"没有名为“{options['revoke']}”的接入应用")
            client_revoke(client=client)
            self.stdout.write(self.style.SUCCESS(f"已吊销：{client.name}"))
            return
        if not options["name"]:
            raise CommandError("请用 --name 给出接入应用名称（或 --list、--revoke）")
        try:
            registered = client_register(
                name=str(options["name"]), organisation=str(options["organisation"]), note=str(options["note"])
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已登记 Open311 接入应用：{registered.client.name}"))
        self.stdout.write("api_key（只显示这一次，请妥善保存）：")
        self.stdout.write(registered.key)
