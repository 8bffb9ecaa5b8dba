from django.core.management.base import BaseCommand

from taizhang.regions.services import load_nbs_divisions


class Command(BaseCommand):
    help = "导入国家统计局2023年区划代码（文峰区、高新区至村级）；可重复运行"

    def handle(self, *args: object, **options: object) -> None:
        created = load_nbs_divisions()
        self.stdout.write(f"新增区划 {created} 个")
