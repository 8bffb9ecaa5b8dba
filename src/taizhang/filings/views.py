"""Pages of resumption filing: the enterprise portal, the filing form, the review, queues and figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from taizhang.core.errors import ApplicationError, ConflictError
from taizhang.core.permissions import permission
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import EnterpriseAccount, Establishment
from taizhang.establishments.selectors import access_establishment, establishment_list
from taizhang.establishments.timeline import timeline_of

from . import attachments, enterprise, selectors, services
from .forms import AccountCreateForm, FilingForm, RegisterForm, ReviewForm
from .models import Filing, State
from .scoping import EDIT_ROLES, READ_ROLES, REVIEW_ROLES, editable_establishment_q
from .storage import ACCEPT, ALLOWED, max_upload_bytes

STAFF_READERS = READ_ROLES - {Role.ENTERPRISE}
ACCOUNT_ROLES = enterprise.CREATOR_ROLES
OVERDUE_ROLES = frozenset({Role.DEPARTMENT, Role.LEADER})
INLINE_TYPES = frozenset(t.content_type for t in ALLOWED if t.inline)


def _errors_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


# --- enterprise portal ----------------------------------------------------------------------------


@permission(roles={Role.ENTERPRISE})
def portal(request: HttpRequest) -> HttpResponse:
    cards = []
    for account in selectors.my_enterprise_accounts(user=request.user):
        card: dict[str, Any] = {"account": account, "establishment": account.establishment}
        if account.confirmed:
            est = access_establishment(request.user, account.establishment_id)
            card["establishment"] = est
            card["filings"] = list(selectors.filings_of(user=request.user, establishment=est)[:10])
            card["open"] = next((f for f in card["filings"] if f.state in (State.DRAFT, State.SUBMITTED, State.RETURNED)), None)
            card["timeline"] = timeline_of(establishment=est, user=request.user, limit=30)
        cards.append(card)
    return render(request, "filings/portal.html", {"cards": cards})


# --- lists and queues -----------------------------------------------------------------------------


@permission(roles=STAFF_READERS)
def filing_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in selectors.FILTERS}
    qs = selectors.filing_list(user=request.user, filters=filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"page": page, "filings": page.object_list, "filters": filters, "states": State.choices, "now": timezone.now()}
    template = "filings/_table.html" if request.htmx else "filings/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@permission(roles=REVIEW_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filings = list(selectors.review_queue(user=request.user)[:500])
    rows = [{"filing": f, "age": selectors.age_of(f, now), "overdue": bool(f.due_at and f.due_at < now)} for f in filings]
    return render(request, "filings/queue.html", {"rows": rows, "counts": selectors.queue_counts(user=request.user, now=now)})


@permission(roles=OVERDUE_ROLES)
def overdue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filings = list(selectors.overdue_reviews(user=request.user, now=now)[:500])
    rows = [{"filing": f, "age": selectors.age_of(f, now)} for f in filings]
    return render(request, "filings/overdue.html", {"rows": rows})


@permission(roles=STAFF_READERS)
def figures(request: HttpRequest) -> HttpResponse:
    try:
        on = date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        on = timezone.localdate()
    by = request.GET.get("by", "")
    by = by if by in ("subdistrict", "category") else "subdistrict"
    data = selectors.establishment_status_figures(user=request.user, on=on, by=by)
    return render(request, "filings/figures.html", {"figures": data})


# --- one filing -----------------------------------------------------------------------------------


@permission(roles=EDIT_ROLES)
def new(request: HttpRequest) -> HttpResponse:
    """Staff filing for an establishment without an account (代为填报): find it, then start."""
    q = request.GET.get("q", "").strip()
    found: list[Establishment] = []
    if q:
        found = list(establishment_list(user=request.user, filters={"q": q}).filter(editable_establishment_q(request.user))[:20])
    return render(request, "filings/new.html", {"q": q, "found": found})


@require_POST
@permission(roles=EDIT_ROLES)
def start(request: HttpRequest, establishment_id: int) -> HttpResponse:
    est = access_establishment(request.user, establishment_id)
    try:
        filing = services.filing_create(establishment=est, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if exc.extra.get("id"):
            return redirect("filings:edit", exc.extra["id"])
        return redirect("filings:portal" if scope_of(request.user).has_role(Role.ENTERPRISE) else "filings:new")
    messages.success(request, f"已创建{filing.template.name}草稿，请逐项填写")
    return redirect("filings:edit", filing.pk)


@permission(roles=READ_ROLES)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    filing = selectors.access_filing(request.user, pk)
    number = request.GET.get("v")
    view = selectors.filing_view(
        filing=filing,
        user=request.user,
        number=int(number) if number and number.isdigit() else None,
        working_copy=False if number else None,
    )
    return render(request, "filings/detail.html", {"v": view, "filing": filing})


@never_cache
@permission(roles=EDIT_ROLES)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    filing = selectors.access_filing(request.user, pk)
    view = selectors.filing_view(filing=filing, user=request.user, working_copy=True)
    if not view.can_edit:
        messages.error(request, f"备案{filing.get_state_display()}，不能修改")
        return redirect("filings:detail", filing.pk)
    items = list(filing.template.items.all())
    errors: list[str] = []
    if request.method == "POST":
        form = FilingForm(request.POST, items=items, answers=filing.answers)
        if form.is_valid():
            errors = _save_and_maybe_submit(request, filing, form)
            if not errors:
                if request.POST.get("action") == "submit":
                    messages.success(request, f"已提交，等待{filing.reviewer_unit}审核")
                    return redirect("filings:detail", filing.pk)
                messages.success(request, "草稿已保存")
                return redirect("filings:edit", filing.pk)
            filing.refresh_from_db()
            view = selectors.filing_view(filing=filing, user=request.user, working_copy=True)
            data = request.POST.copy()
            data["revision"] = str(filing.revision)
            form = FilingForm(data, items=items, answers=filing.answers)
            form.is_valid()
    else:
        form = FilingForm(
            initial={"revision": filing.revision, "planned_date": filing.planned_date}, items=items, answers=filing.answers
        )
    files_by_item = {iv.item.code: iv.attachments for iv in view.items}
    groups = [
        (item, fields, files_by_item.get(item.code, []), next(iv for iv in view.items if iv.item.code == item.code))
        for item, fields in form.groups()
    ]
    return render(
        request,
        "filings/edit.html",
        {
            "filing": filing,
            "v": view,
            "form": form,
            "groups": groups,
            "errors": errors,
            "accept": ACCEPT,
            "max_mb": max_upload_bytes() // 1048576,
        },
    )


def _save_and_maybe_submit(request: HttpRequest, filing: Filing, form: FilingForm) -> list[str]:
    """Save the answers, remove and add attachments, then submit if asked. Returns what went wrong."""
    errors: list[str] = []
    try:
        services.filing_update(
            filing=filing,
            actor=request.user,
            expected_revision=form.cleaned_data["revision"],
            answers=form.answers(),
            planned_date=form.cleaned_data.get("planned_date"),
        )
    except ConflictError as exc:
        return [exc.message + "（您填写的内容仍在下方，请核对后再保存）"]
    except ValidationError as exc:
        return _errors_of(exc)
    except ApplicationError as exc:
        return [exc.message]
    for aid in request.POST.getlist("remove"):
        attachment = filing.attachments.filter(pk=int(aid) if aid.isdigit() else 0, removed=False).first()
        if attachment is not None:
            attachments.attachment_remove(filing=filing, attachment=attachment, actor=request.user)
    for item in form.items:
        for upload in request.FILES.getlist(f"{item.code}-files"):
            try:
                attachments.attachment_add(filing=filing, actor=request.user, item_code=item.code, upload=upload)
            except ApplicationError as exc:
                errors.append(f"{item.label}·{upload.name}：{exc.message}")
    if errors:
        return [*errors, "其余内容已保存为草稿；请重新选择上传失败的文件"]
    if request.POST.get("action") == "submit":
        version = request.POST.get("version", "")
        try:
            services.filing_submit(filing=filing, actor=request.user, version=int(version) if version.isdigit() else None)
        except ValidationError as exc:
            return ["内容已保存为草稿，但还不能提交：", *_errors_of(exc)]
        except ApplicationError as exc:
            return [exc.message]
        filing.refresh_from_db()
    return []


@never_cache
@permission(roles=REVIEW_ROLES)
def review(request: HttpRequest, pk: int) -> HttpResponse:
    filing = selectors.access_filing(request.user, pk)
    view = selectors.filing_view(filing=filing, user=request.user, working_copy=False)
    if not view.can_review:
        messages.error(request, "该备案不在待审核状态，或不由您所在部门审核")
        return redirect("filings:detail", filing.pk)
    items = list(filing.template.items.all())
    error = ""
    if request.method == "POST":
        form = ReviewForm(request.POST, items=items)
        if form.is_valid():
            try:
                services.filing_review(
                    filing=filing,
                    actor=request.user,
                    rulings=form.rulings(),
                    expected_revision=form.cleaned_data["revision"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                for code, msgs in exc.message_dict.items():
                    field = f"{code}-comment" if f"{code}-comment" in form.fields else None
                    for m in msgs:
                        form.add_error(field, m)
            except ConflictError as exc:
                error = exc.message
            else:
                outcome = "审核通过" if filing.state == State.APPROVED else "已退回修改"
                messages.success(request, f"{filing.establishment.name}：{outcome}")
                return redirect("filings:queue")
    else:
        initial: dict[str, Any] = {"revision": filing.revision}
        for iv in view.items:
            if iv.ruling:
                initial[f"{iv.item.code}-decision"] = iv.ruling.get("decision")
                initial[f"{iv.item.code}-comment"] = iv.ruling.get("comment", "")
        form = ReviewForm(initial=initial, items=items)
    rows = [(iv, form[f"{iv.item.code}-decision"], form[f"{iv.item.code}-comment"]) for iv in view.items]
    return render(request, "filings/review.html", {"filing": filing, "v": view, "form": form, "rows": rows, "error": error})


@require_POST
@permission(roles=EDIT_ROLES)
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    filing = selectors.access_filing(request.user, pk)
    try:
        services.filing_withdraw(filing=filing, actor=request.user, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "备案已撤回")
    return redirect("filings:detail", filing.pk)


@permission(roles=READ_ROLES)
def attachment(request: HttpRequest, pk: int, aid: int) -> FileResponse:
    """A file of a filing the user may see; the same 404 for anything else."""
    att = selectors.access_attachment(request.user, pk, aid)
    inline = att.content_type in INLINE_TYPES
    response = FileResponse(att.file.open("rb"), content_type=att.content_type, as_attachment=not inline, filename=att.name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- enterprise accounts --------------------------------------------------------------------------


@permission(roles=ACCOUNT_ROLES)
def accounts(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    found = list(establishment_list(user=request.user, filters={"q": q})[:20]) if q else []
    counts: dict[int, int] = {}
    if found:
        for row in (
            EnterpriseAccount.objects.filter(establishment__in=found, is_active=True)
            .values("establishment_id")
            .annotate(n=Count("id"))
        ):
            counts[row["establishment_id"]] = row["n"]
    rows = [(e, counts.get(e.pk, 0)) for e in found]
    return render(
        request, "filings/accounts.html", {"pending": enterprise.pending_accounts(user=request.user)[:200], "q": q, "rows": rows}
    )


@never_cache
@permission(roles=ACCOUNT_ROLES)
def account_create(request: HttpRequest, establishment_id: int) -> HttpResponse:
    est = access_establishment(request.user, establishment_id)
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account, password = enterprise.enterprise_account_create(
                establishment=est,
                actor=request.user,
                display_name=form.cleaned_data["display_name"],
                username=form.cleaned_data["username"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return render(
                request, "filings/account_created.html", {"account": account, "password": password, "establishment": est}
            )
    existing = enterprise.accounts_of(user=request.user, establishment=est)
    return render(request, "filings/account_create.html", {"establishment": est, "form": form, "existing": existing})


@require_POST
@permission(roles=enterprise.CONFIRMER_ROLES)
def account_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    account = enterprise.access_pending_account(request.user, pk)
    if decision == "confirm":
        enterprise.enterprise_account_confirm(account=account, actor=request.user)
        messages.success(request, f"已确认 {account.user} 为“{account.establishment}”的企业联系人")
    else:
        enterprise.enterprise_account_reject(account=account, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"已拒绝 {account.user} 的注册申请")
    return redirect("filings:accounts")


@never_cache
@permission(public=True)
def register(request: HttpRequest) -> HttpResponse:
    """Self-registration of an enterprise contact (public: the one page a person without an account needs)."""
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            account = enterprise.enterprise_register(
                credit_code=d["credit_code"], mobile=d["mobile"], display_name=d["display_name"], password=d["password"]
            )
        except ApplicationError as exc:
            form.add_error("password" if exc.code == "weak_password" else None, exc.message)
        else:
            return render(request, "filings/register_done.html", {"account": account})
    return render(request, "filings/register.html", {"form": form}, status=400 if form.errors else 200)
