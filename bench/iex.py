"""The peer: django-import-export (4.x) in bulk mode, tuned as its documentation advises for large imports —
use_bulk with large batches, no diff, no instance lookup (force_init_instance), no skipped-row report, foreign
keys resolved from an in-memory cache instead of one query per row — with the same validation the engine does
(establishments.services.clean_data: check characters, mobile; name initials, region path)."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from taizhang.establishments.models import Establishment, EstablishmentKind, Status
from taizhang.establishments.services import clean_data, name_initials
from taizhang.industries.models import ServiceCategory
from taizhang.regions.models import Region


class CachedForeignKeyWidget(widgets.ForeignKeyWidget):
    def __init__(self, model: Any, field: str) -> None:
        super().__init__(model, field)
        self._cache: dict[str, Any] | None = None

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value in (None, ""):
            return None
        if self._cache is None:
            self._cache = {str(getattr(o, self.field)): o for o in self.model.objects.all()}
        try:
            return self._cache[str(value).strip()]
        except KeyError:
            raise ValueError(f"{value} 不存在") from None


class YesNoWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        return str(value).strip() == "是"


class StatusWidget(widgets.Widget):
    LABELS = {s.label: s.value for s in Status}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return self.LABELS.get(str(value).strip(), Status.NOT_RESUMED)


class TextWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value).strip()


class EstablishmentResource(resources.ModelResource):
    credit_code = fields.Field(attribute="credit_code", column_name="统一社会信用代码", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="单位名称", widget=TextWidget())
    kind = fields.Field(attribute="kind", column_name="单位类型", widget=CachedForeignKeyWidget(EstablishmentKind, "name"))
    category = fields.Field(attribute="category", column_name="行业类别", widget=CachedForeignKeyWidget(ServiceCategory, "name"))
    region = fields.Field(attribute="region", column_name="所在社区/网格", widget=CachedForeignKeyWidget(Region, "display_name"))
    address = fields.Field(attribute="address", column_name="地址", widget=TextWidget())
    legal_representative = fields.Field(attribute="legal_representative", column_name="法定代表人", widget=TextWidget())
    contact_name = fields.Field(attribute="contact_name", column_name="联系人", widget=TextWidget())
    contact_mobile = fields.Field(attribute="contact_mobile", column_name="联系电话", widget=TextWidget())
    employees = fields.Field(attribute="employees", column_name="从业人数", widget=widgets.IntegerWidget())
    above_size = fields.Field(attribute="above_size", column_name="限上企业", widget=YesNoWidget())
    key_target = fields.Field(attribute="key_target", column_name="重点帮扶", widget=YesNoWidget())
    status = fields.Field(attribute="status", column_name="状态", widget=StatusWidget())
    resumed_on = fields.Field(attribute="resumed_on", column_name="复工日期", widget=widgets.DateWidget("%Y-%m-%d"))
    latitude = fields.Field(attribute="latitude", column_name="纬度", widget=widgets.DecimalWidget())
    longitude = fields.Field(attribute="longitude", column_name="经度", widget=widgets.DecimalWidget())

    class Meta:
        model = Establishment
        fields = (
            "credit_code",
            "name",
            "kind",
            "category",
            "region",
            "address",
            "legal_representative",
            "contact_name",
            "contact_mobile",
            "employees",
            "above_size",
            "key_target",
            "status",
            "resumed_on",
            "latitude",
            "longitude",
        )
        import_id_fields: tuple[str, ...] = ()
        use_bulk = True
        batch_size = 5000
        skip_diff = True
        force_init_instance = True
        report_skipped = False
        skip_unchanged = False
        clean_model_instances = False

    def __init__(self, *, user: Any) -> None:
        super().__init__()
        self.user = user

    def before_save_instance(self, instance: Establishment, row: Any, **kwargs: Any) -> None:
        data = clean_data(
            {
                "credit_code": instance.credit_code,
                "contact_mobile": instance.contact_mobile,
                "name": instance.name,
                "region": instance.region,
            }
        )
        instance.credit_code, instance.contact_mobile, instance.name = data["credit_code"], data["contact_mobile"], data["name"]
        instance.name_initials = name_initials(instance.name)
        instance.region_path = instance.region.path
        instance.status_since = instance.resumed_on or instance.status_since
        instance.created_by = self.user
        if instance.latitude is not None:
            instance.latitude = round(instance.latitude, 6)
            instance.longitude = round(instance.longitude, 6)
