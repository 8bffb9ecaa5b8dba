from django import forms

from .models import AuditEvent


class AuditFilterForm(forms.Form):
    username = forms.CharField(label="用户名", required=False)
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部"), *AuditEvent.Action.choices])
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *AuditEvent.Outcome.choices])
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
