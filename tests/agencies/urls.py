"""The project's URLs plus the agency pages and API where the lead mounts them (``/agency/``,
``/api/v1/agency/``), for tests run before the project's urls.py includes them."""

from django.urls import include, path

from arrears.agencies.api import api
from arrears.project.urls import urlpatterns as project

urlpatterns = [
    path("agency/", include("arrears.agencies.urls")),
    path("api/v1/agency/", api.urls),
    *project,
]
