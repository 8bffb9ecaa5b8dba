"""Re-encrypt every protected personal field with the current key (step 2 of key rotation, ADR 0003)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taizhang.core import protected


class Command(BaseCommand):
    help = "将所有加密字段改用当前密钥（TAIZHANG_FIELD_KEYS 的第一个）重新加密；可重复执行，已是当前密钥的行不会改动"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="每个事务处理的行数（默认 500）")
        parser.add_argument("--reindex", action="store_true", help="同时重算盲索引（更换 TAIZHANG_INDEX_KEY 后使用）")
        parser.add_argument("--check", action="store_true", help="只检查：仍有旧密钥加密的行时以非零状态退出，不做修改")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = int(options["batch_size"])
        if batch_size < 1:
            raise CommandError("--batch-size 必须大于 0")
        key_id = protected.current_key_id()
        stale_total = 0
        for model in protected.encrypted_models():
            label = model._meta.label_lower
            queryset = model._base_manager.all()
            if options["check"]:
                stale = protected.stale_count(queryset)
                stale_total += stale
                if stale:
                    self.stdout.write(f"{label}：{stale} 行仍使用旧密钥")
                continue
            try:
                count = protected.reencrypt(queryset, batch_size=batch_size)
            except protected.DecryptionError as exc:
                raise CommandError(f"重新加密中止：{exc}") from exc
            self.stdout.write(f"{label}：重新加密 {count} 行")
            if options["reindex"]:
                self.stdout.write(f"{label}：重算盲索引 {protected.reindex(queryset, batch_size=batch_size)} 行")
        if options["check"]:
            if stale_total:
                raise CommandError(f"共 {stale_total} 行仍使用旧密钥，请先运行 reencrypt_fields")
            self.stdout.write(f"全部加密字段均已使用当前密钥 {key_id}")
            return
        self.stdout.write(self.style.SUCCESS(f"完成：全部加密字段均已使用当前密钥 {key_id}"))
