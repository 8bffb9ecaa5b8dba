from __future__ import annotations

from django import forms


class UploadForm(forms.Form):
    file = forms.FileField(
        label="选择文件",
        help_text="Excel（.xlsx/.xls）或 CSV（UTF-8 或 GBK）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )


class CommitForm(forms.Form):
    valid_only = forms.BooleanField(label="仅导入无误的行（有误的行不导入）", required=False)


class ExportForm(forms.Form):
    unmasked = forms.BooleanField(label="导出完整的个人信息（将记录审计）", required=False)
