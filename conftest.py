"""Shared fixtures live in taizhang.testing so that app tests and tests/ both use them."""

pytest_plugins = ["taizhang.testing", "taizhang.testing_domain"]
