"""The roles of SPEC §1. A user holds posts (unit, region, role); a role alone grants nothing outside its scope."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    LEADER = "leader", "指挥部领导"
    DEPARTMENT = "department", "职能部门"
    SUBDISTRICT = "subdistrict", "街道/镇办"
    COMMUNITY = "community", "社区/村（网格员）"
    INSPECTOR = "inspector", "督导组"
    HOTLINE = "hotline", "热线"
    ENTERPRISE = "enterprise", "企业联系人"
    SYSADMIN = "sysadmin", "系统管理员"
    SECADMIN = "secadmin", "安全管理员"
    AUDITOR = "auditor", "安全审计员"


ALL_ROLES = frozenset(Role.values)
# 三员分立: none of these reads personal data; each has its own pages only.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})
STAFF_ROLES = frozenset({Role.LEADER, Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY, Role.INSPECTOR, Role.HOTLINE})
# Roles whose posts open the subtree of the post's region.
REGION_SCOPED_ROLES = STAFF_ROLES
# Who may browse the region tree (sysadmin maintains grids, compounds and road sections).
REGION_READERS = STAFF_ROLES | {Role.SYSADMIN}
