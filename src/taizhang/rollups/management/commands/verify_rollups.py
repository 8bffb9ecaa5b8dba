from django.core.management.base import BaseCommand, CommandError, CommandParser

from taizhang.rollups import services


class Command(BaseCommand):
    help = "核对汇总与基础数据的直接统计是否一致；有差异时列出并以非零状态退出（修复：taizhang rebuild_rollups）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", nargs="*", help="只核对这些来源")
        parser.add_argument("--limit", type=int, default=50, help="最多列出多少处差异")

    def handle(self, *args: object, **options: object) -> None:
        only = options["only"] or None
        differences = services.verify(only=only if isinstance(only, list) else None)
        if not differences:
            self.stdout.write(self.style.SUCCESS("汇总与基础数据一致"))
            return
        limit = int(str(options["limit"]))
        for d in differences[:limit]:
            self.stdout.write(str(d))
        raise CommandError(f"汇总与基础数据有 {len(differences)} 处不一致；运行 taizhang rebuild_rollups 修复")
