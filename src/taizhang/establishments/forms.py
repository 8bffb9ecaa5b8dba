"""Forms of the registry pages: the list's filter bar, create/edit, contact edit (enterprise) and status change.

Forms parse and present; the services validate the business rules and write. Choices are limited to what
the user may see, and every option list is loaded in one query whatever the size of the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from taizhang.accounts.models import Post, User
from taizhang.core.protected import mask_field
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.industries.models import IndustryCode, ServiceCategory
from taizhang.regions.models import Level, Region, RoadSection

from .models import TRANSITIONS, Establishment, EstablishmentKind, Status

# Who uses the registry pages (SPEC §1). Administrators, hotline and inspectors have none.
# Inspectors read (masked) the establishments their teams are sent to: their active campaign targets (scoping.py).
READERS = frozenset({Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY, Role.INSPECTOR, Role.ENTERPRISE})
# Who registers, edits and moves establishments along the lifecycle. Leaders are read-only.
WRITERS = frozenset({Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
# Who may export the registry to Excel: the list page's button, and the transfer app's establishments ledger, whose
# export_roles these are. Enterprises export nothing.
EXPORTERS = frozenset({Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY})
# What an enterprise contact person may correct on their own establishment.
CONTACT_FIELDS = ("contact_name", "contact_mobile")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
FILTER_LEVELS = (Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID)
PLACE_LEVELS = (Level.COMMUNITY, Level.GRID)


def is_writer(user: Any) -> bool:
    return scope_of(user).has_role(*WRITERS)


def editable_fields_for(user: Any) -> tuple[str, ...] | None:
    """None: every editable field; a tuple: only these (an enterprise's contact fields); (): nothing."""
    scope = scope_of(user)
    if scope.has_role(*WRITERS):
        return None
    if scope.has_role(Role.ENTERPRISE):
        return CONTACT_FIELDS
    return ()


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    field.choices = choices


# --- option lists ---------------------------------------------------------------------------------


def _indent(region: Region, top_depth: int) -> str:
    return "\u3000" * max(region.depth - top_depth, 0) + region.display_name


def visible_regions(user: Any, levels: Iterable[str]) -> list[Region]:
    return list(Region.objects.visible_to(user).filter(level__in=list(levels)).order_by("path"))


def region_options(regions: list[Region]) -> list[tuple[str, str]]:
    top = min((r.depth for r in regions), default=0)
    return [(str(r.pk), _indent(r, top)) for r in regions]


def category_options() -> list[tuple[str, str]]:
    """Majors followed by their minors (indented), from one query."""
    rows = list(ServiceCategory.objects.filter(is_active=True).order_by("sort", "code"))
    minors: dict[int | None, list[ServiceCategory]] = {}
    for c in rows:
        if c.parent_id is not None:
            minors.setdefault(c.parent_id, []).append(c)
    options: list[tuple[str, str]] = []
    for major in (c for c in rows if c.parent_id is None):
        options.append((str(major.pk), major.name))
        options.extend((str(m.pk), "\u3000" + m.name) for m in minors.get(major.pk, []))
    return options


def unit_people(user: Any) -> list[User]:
    """The people of the user's own units (for the 包联人员 filter)."""
    units = scope_of(user).unit_ids
    if not units:
        return []
    holders = Post.objects.active().filter(unit_id__in=units, role__in=list(WRITERS)).values("user_id")
    return list(User.objects.filter(pk__in=holders, is_active=True).order_by("display_name", "username"))


def road_sections_for(regions: Iterable[Region]) -> list[RoadSection]:
    """The road sections of the sub-districts the given regions lie in (road names are not personal data)."""
    paths = {p for r in regions for p in [*r.ancestors_paths(), r.path]}
    return list(RoadSection.objects.filter(subdistrict__path__in=paths).select_related("subdistrict").order_by("code"))


# --- the list's filter bar ------------------------------------------------------------------------


class FilterForm(forms.Form):
    """The filters of the list page and the list API; all optional, all kept in the URL."""

    q = forms.CharField(label="搜索", required=False, max_length=60)
    region = forms.ChoiceField(label="区划", required=False)
    kind = forms.ChoiceField(label="类型", required=False)
    category = forms.ChoiceField(label="行业类别", required=False)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *Status.choices])
    responsible = forms.ChoiceField(label="包联人员", required=False)
    above_size = forms.BooleanField(label="限上企业", required=False)
    key_target = forms.BooleanField(label="重点帮扶", required=False)

    def __init__(self, data: Any, *, user: Any) -> None:
        super().__init__(data)
        self.user = user
        self.regions = {str(r.pk): r for r in visible_regions(user, FILTER_LEVELS)}
        kinds = list(EstablishmentKind.objects.order_by("sort", "code"))
        self.kind_ids = {k.code: k.pk for k in kinds}
        set_choices(self, "region", [("", "全部"), *region_options(list(self.regions.values()))])
        set_choices(self, "kind", [("", "全部"), *((k.code, k.name) for k in kinds)])
        set_choices(self, "category", [("", "全部"), *category_options()])
        people: list[User] = unit_people(user) if not self._enterprise_only() else []
        responsible = [("", "全部"), *((str(u.pk), u.display_name or u.username) for u in people)]
        selected = str((data or {}).get("responsible") or "")
        if selected.isdigit() and selected not in {str(u.pk) for u in people}:
            # Someone outside the user's own units (e.g. a sub-district filtering by a community's staff).
            other = User.objects.filter(pk=int(selected)).only("pk", "display_name", "username").first()
            if other is not None:
                responsible.append((selected, other.display_name or other.username))
        set_choices(self, "responsible", responsible)

    def query_string(self) -> str:
        """The filters as given, without the page or the page size, for a link that must hold exactly the rows of
        this list (the Excel export reads them back through this form)."""
        return urlencode([(name, value) for name in self.fields if (value := self.data.get(name))])

    def _enterprise_only(self) -> bool:
        scope = scope_of(self.user)
        return scope.has_role(Role.ENTERPRISE) and not scope.has_role(*READERS - {Role.ENTERPRISE})

    def selector_filters(self) -> dict[str, Any]:
        """The valid filters, for selectors.establishment_list (invalid ones are reported, not applied)."""
        self.is_valid()
        data = self.cleaned_data
        out: dict[str, Any] = {}
        if data.get("q"):
            out["q"] = data["q"]
        if data.get("region"):
            out["region"] = self.regions[data["region"]]
        if data.get("kind"):
            out["kind"] = self.kind_ids[data["kind"]]
        if data.get("category"):
            out["category"] = int(data["category"])
        if data.get("status"):
            out["status"] = data["status"]
        if data.get("responsible"):
            out["responsible"] = int(data["responsible"])
        if data.get("above_size"):
            out["above_size"] = True
        if data.get("key_target"):
            out["key_target"] = True
        return out


def page_size_of(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return PAGE_SIZE
    return min(max(size, 1), MAX_PAGE_SIZE)


# --- create and edit ------------------------------------------------------------------------------


class ServiceErrorsMixin:
    """Put a service's ValidationError on the fields it names (the rest above the form)."""

    def add_service_errors(self, exc: ValidationError) -> None:
        form: Any = self
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            form.add_error(None, exc.messages)


class EstablishmentForm(ServiceErrorsMixin, forms.Form):
    """Register or edit an establishment. On edit, personal fields start empty (shown masked as a hint):
    filling one replaces the stored value, leaving it empty keeps it, so an edit never reveals them."""

    name = forms.CharField(label="名称", max_length=120)
    credit_code = forms.CharField(
        label="统一社会信用代码",
        max_length=30,
        required=False,
        help_text="18位，个体户或出租屋可不填",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    kind = forms.ModelChoiceField(label="类型", queryset=EstablishmentKind.objects.order_by("sort", "code"), empty_label="请选择")
    category = forms.ChoiceField(label="行业类别", required=False)
    industry = forms.CharField(
        label="国标行业代码", max_length=4, required=False, help_text="GB/T 4754-2017 小类4位代码，如 5211"
    )
    region = forms.ChoiceField(label="所在社区/网格")
    road_section = forms.ChoiceField(label="路段", required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)
    legal_representative = forms.CharField(label="法定代表人", max_length=60, required=False)
    contact_name = forms.CharField(label="联系人", max_length=60, required=False)
    contact_mobile = forms.CharField(
        label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})
    )
    employees = forms.IntegerField(label="从业人数", min_value=0, initial=0, required=False)
    above_size = forms.BooleanField(label="限上企业", required=False)
    key_target = forms.BooleanField(label="重点帮扶", required=False)
    latitude = forms.DecimalField(label="纬度", max_digits=9, decimal_places=6, required=False, min_value=-90, max_value=90)
    longitude = forms.DecimalField(label="经度", max_digits=9, decimal_places=6, required=False, min_value=-180, max_value=180)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    SENSITIVE = Establishment.SENSITIVE_FIELDS

    def __init__(self, data: Any = None, *, user: Any, instance: Establishment | None = None, **kwargs: Any) -> None:
        if instance is not None and data is None:
            kwargs.setdefault("initial", self.initial_of(instance))
        super().__init__(data, **kwargs)
        self.user = user
        self.instance = instance
        places = visible_regions(user, (Level.SUBDISTRICT, *PLACE_LEVELS))
        self.places = {str(r.pk): r for r in places if r.level in PLACE_LEVELS}
        if instance is not None and str(instance.region_id) not in self.places:
            # Visible through an assignment or a department's duties rather than the region tree.
            self.places[str(instance.region_id)] = instance.region
        set_choices(self, "region", [("", "请选择"), *region_options(list(self.places.values()))])
        # Changing the place reloads the road sections of its sub-district (htmx).
        self.fields["region"].widget.attrs.update(
            {"hx-get": reverse("establishments:road-options"), "hx-target": "#id_road_section", "hx-trigger": "change"}
        )
        self.fields["version"].required = instance is not None
        set_choices(self, "category", [("", "未分类"), *category_options()])
        chosen = self.places.get(str(self._value("region") or ""))
        roads = road_sections_for([chosen] if chosen is not None else self.places.values())
        self.roads = {str(s.pk): s for s in roads}
        set_choices(self, "road_section", [("", "无"), *((k, s.name) for k, s in self.roads.items())])
        if instance is not None:
            for name in self.SENSITIVE:
                shown = mask_field(instance, name)
                self.fields[name].widget.attrs["placeholder"] = f"{shown}（不修改请留空）" if shown else "未填写"

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(name)
        return self.initial.get(name)

    @staticmethod
    def initial_of(est: Establishment) -> dict[str, Any]:
        return {
            "name": est.name,
            "credit_code": est.credit_code or "",
            "kind": est.kind_id,
            "category": est.category_id or "",
            "industry": est.industry.code if est.industry_id and est.industry else "",
            "region": est.region_id,
            "road_section": est.road_section_id or "",
            "address": est.address,
            "employees": est.employees,
            "above_size": est.above_size,
            "key_target": est.key_target,
            "latitude": est.latitude,
            "longitude": est.longitude,
            "version": est.version,
        }

    def clean_region(self) -> Region:
        value = self.cleaned_data["region"]
        region = self.places.get(value)
        if region is None:
            raise ValidationError("请选择您辖区内的社区或网格")
        return region

    def clean_road_section(self) -> RoadSection | None:
        value = self.cleaned_data.get("road_section")
        return self.roads.get(value) if value else None

    def clean_category(self) -> ServiceCategory | None:
        value = self.cleaned_data.get("category")
        return ServiceCategory.objects.filter(pk=int(value)).first() if value else None

    def clean_industry(self) -> IndustryCode | None:
        code = (self.cleaned_data.get("industry") or "").strip()
        if not code:
            return None
        found = IndustryCode.objects.filter(code=code).first()
        if found is None:
            raise ValidationError(f"国标行业代码 {code} 不存在，请填写 GB/T 4754-2017 的代码")
        return found

    def clean_employees(self) -> int:
        return self.cleaned_data.get("employees") or 0

    def service_data(self) -> dict[str, Any]:
        """What to hand to the service: on edit, personal fields left empty are not changed."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if self.instance is not None:
            for name in self.SENSITIVE:
                if not (data.get(name) or "").strip():
                    data.pop(name, None)
        return data


class ContactForm(ServiceErrorsMixin, forms.Form):
    """An enterprise contact person corrects the contact details of their own establishment."""

    contact_name = forms.CharField(label="联系人", max_length=60, required=False)
    contact_mobile = forms.CharField(
        label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    SENSITIVE = CONTACT_FIELDS

    def __init__(self, data: Any = None, *, user: Any, instance: Establishment, **kwargs: Any) -> None:
        if data is None:
            kwargs.setdefault("initial", {"version": instance.version})
        super().__init__(data, **kwargs)
        self.user = user
        self.instance = instance
        for name in self.SENSITIVE:
            shown = mask_field(instance, name)
            self.fields[name].widget.attrs["placeholder"] = f"{shown}（不修改请留空）" if shown else "未填写"

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in self.SENSITIVE and (v or "").strip()}


def conflicting_fields(form: forms.Form, current: Establishment) -> list[tuple[str, str]]:
    """After a conflict: the fields where what the user typed differs from what is now saved (label, saved)."""
    rows: list[tuple[str, str]] = []
    typed = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    for name, value in typed.items():
        if name == "version" or name not in form.fields:
            continue
        saved = getattr(current, name, None)
        if name in Establishment.SENSITIVE_FIELDS:
            if value and value != saved:
                rows.append((str(form.fields[name].label), mask_field(current, name) or "（空）"))
            continue
        if (value or None) != (saved or None):
            rows.append(
                (str(form.fields[name].label), "是" if saved is True else "否" if saved is False else str(saved or "（空）"))
            )
    return rows


# --- status ---------------------------------------------------------------------------------------


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label="变更为")
    on = forms.DateField(label="日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, data: Any = None, *, establishment: Establishment, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        targets = allowed_targets(establishment.status)
        set_choices(self, "to", [(s.value, s.label) for s in targets])

    def clean_on(self) -> date | None:
        on = self.cleaned_data.get("on")
        if on is not None and on > timezone.localdate():
            raise ValidationError("日期不能晚于今天")
        return on


def allowed_targets(status: str) -> list[Status]:
    return [s for s in Status if s.value in TRANSITIONS.get(status, set())]
