from django.contrib import admin
from django.urls import include, path

from arrears.agencies.api import api as agency_api
from arrears.api.api import api as integration_api
from arrears.api.api import urls as integration_urls
from arrears.portal.api import api as portal_api
from arrears.web.unavailable import pass_database_errors

# a lost database is the middleware's 503 in the APIs' JSON shape, not ninja's 500 (DEBUG: a
# plain-text traceback)
for _ninja in (agency_api, portal_api, integration_api):
    pass_database_errors(_ninja)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("arrears.contact.urls")),
    path("", include("arrears.verification.urls")),
    path("", include("arrears.fieldwork.urls")),
    path("", include("arrears.complaints.urls")),
    path("", include("arrears.audit.urls")),
    path("", include("arrears.legal.urls")),
    path("", include("arrears.quality.urls")),
    path("", include("arrears.reports.urls")),
    path("agency/", include("arrears.agencies.urls")),
    path("my/", include("arrears.portal.urls")),
    path("api/v1/agency/", agency_api.urls),
    path("api/v1/my/", portal_api.urls),
    path("api/v1/", integration_urls()),
    path("", include("arrears.web.urls")),
]
