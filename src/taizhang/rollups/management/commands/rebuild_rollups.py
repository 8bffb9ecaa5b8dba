from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from taizhang.rollups import services


class Command(BaseCommand):
    help = "从基础数据重新计算全部汇总（数据看板用）：批量写入之后，或核对发现差异时修复"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only", nargs="*", help="只重建这些来源（establishments problems problem_events filings targets visits）"
        )
        parser.add_argument("--as-of", help="数据描述的日期（演示数据用，如 2020-03-19）；--live 表示实时数据")
        parser.add_argument("--live", action="store_true", help="清除数据日期，按今天统计")

    def handle(self, *args: object, **options: object) -> None:
        as_of: date | bool | None = False
        if options["live"]:
            as_of = None
        elif options["as_of"]:
            as_of = date.fromisoformat(str(options["as_of"]))
        only = options["only"] or None
        result = services.rebuild(only=only if isinstance(only, list) else None, as_of=as_of)
        self.stdout.write(
            self.style.SUCCESS(
                f"汇总已重建：计数 {result.tallies} 行，每日 {result.flows} 行，去重对象 {result.members} 个，用时 {result.seconds:.1f} 秒"
            )
        )
