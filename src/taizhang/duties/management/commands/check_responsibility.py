"""`taizhang check_responsibility [--on 2020-03-19]`: is someone responsible for every subject, on both axes?

Loads the subjects (establishments by default) in primary-key batches and asks
`duties.selectors.responsible_for_many`, the function that routing and pages use. A subject is complete when
no link of either chain is missing and every link names at least one person. Exits with status 1 otherwise.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from taizhang.duties.selectors import Responsibility, responsible_for_many

DEFAULT_SUBJECT = "establishments.establishment"


class Command(BaseCommand):
    help = "核查包联责任：每个对象在属地、行业两条线上是否都有责任单位和责任人；有缺口时退出码为 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", type=date.fromisoformat, default=None, help="核查日期（YYYY-MM-DD），默认今天")
        parser.add_argument("--subject", default=DEFAULT_SUBJECT, help=f"对象模型（app_label.model），默认 {DEFAULT_SUBJECT}")
        parser.add_argument("--batch", type=int, default=2000, help="每批读取的对象数，默认 2000")
        parser.add_argument("--examples", type=int, default=10, help="列出不完整对象的个数，默认 10")

    def handle(self, *args: Any, **options: Any) -> None:
        on: date = options["on"] or timezone.localdate()
        try:
            model = apps.get_model(options["subject"])
        except (LookupError, ValueError) as exc:
            raise CommandError(f"未知的对象模型 {options['subject']}") from exc
        batch = max(1, int(options["batch"]))
        # Only what responsibility is computed from: never the encrypted personal fields.
        base = (
            model._default_manager.select_related("region")
            .only("pk", "name", "region__id", "region__path", "road_section_id", "category_id")
            .order_by("pk")
        )
        total = complete = 0
        gaps: Counter[str] = Counter()
        nobody: Counter[str] = Counter()
        examples: list[str] = []
        last: Any = None
        while True:
            chunk = list((base if last is None else base.filter(pk__gt=last))[:batch])
            if not chunk:
                break
            last = chunk[-1].pk
            answers = responsible_for_many(chunk, on=on, batch=batch)
            for subject in chunk:
                r: Responsibility = answers[subject.pk]
                empty = [link.label for link in (*r.territorial, *r.sectoral) if not link.people]
                gaps.update(r.gaps)
                nobody.update(empty)
                total += 1
                if r.complete and not empty:
                    complete += 1
                elif len(examples) < options["examples"]:
                    missing = "、".join([*r.gaps, *(f"{label}无人" for label in empty)])
                    examples.append(f"    #{subject.pk} {subject}：{missing}")

        w = self.stdout.write
        w(f"包联责任核查（{model._meta.verbose_name}，截至 {on:%Y-%m-%d}）")
        w(f"  对象总数：{total}")
        w(f"  两条线均完整：{complete}")
        w(f"  不完整：{total - complete}")
        w("  缺少的环节：" + ("无" if not gaps else "；".join(f"{label} {n}" for label, n in gaps.most_common())))
        w("  有单位但无人员的环节：" + ("无" if not nobody else "；".join(f"{label} {n}" for label, n in nobody.most_common())))
        if examples:
            w("  示例：")
            for line in examples:
                w(line)
        if complete != total:
            raise CommandError(f"{total - complete} 个对象的包联责任不完整")
        self.stdout.write(self.style.SUCCESS("全部对象在属地、行业两条线上均有责任单位和责任人"))
