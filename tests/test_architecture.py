"""Cross-app rules: deny by default (every view declares who may call it)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from taizhang.core.permissions import Rule, declared_rule


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_view_declares_a_permission():
    undeclared = [route for route, callback in walk(get_resolver().url_patterns) if declared_rule(callback) is None]
    assert undeclared == [], f"views without a permission declaration: {undeclared}"


def test_the_walk_sees_every_app():
    routes = [route for route, _ in walk(get_resolver().url_patterns)]
    assert len(routes) > 10
    for prefix in ("accounts/", "regions/", "audit/", "api/v1/"):
        assert any(r.startswith(prefix) for r in routes), prefix


def test_a_view_without_declaration_is_caught():
    def bare(request):  # pragma: no cover
        return None

    assert declared_rule(bare) is None


def test_public_views_are_only_the_expected_ones():
    def is_public(rule):
        return rule == "public" or (isinstance(rule, Rule) and rule.public)

    public = sorted(route for route, cb in walk(get_resolver().url_patterns) if is_public(declared_rule(cb)))
    # filings/register/: an enterprise contact registers with the credit code and the mobile on record
    assert public == sorted(["accounts/login/", "accounts/logout/", "api/v1/schema", "filings/register/", *OPEN311_ROUTES])


# Open311 GeoReport v2 (problems/open311): public by the standard; POST requests checks the client's api_key.
OPEN311_ROUTES = [
    "open311/v2/",
    "open311/v2/<path:rest>",
    "open311/v2/discovery.<o311fmt:fmt>",
    "open311/v2/request/<o311id:service_request_id>.<o311fmt:fmt>",
    "open311/v2/requests.<o311fmt:fmt>",
    "open311/v2/requests/<o311id:service_request_id>.<o311fmt:fmt>",
    "open311/v2/services.<o311fmt:fmt>",
    "open311/v2/services/<o311id:service_code>.<o311fmt:fmt>",
    "open311/v2/tokens/<o311id:token>.<o311fmt:fmt>",
]
