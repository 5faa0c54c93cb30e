"""The site's URLs plus the field-visit pages (the lead includes them in the project at merge)."""

from django.urls import include, path

from arrears.project.urls import urlpatterns as site

urlpatterns = [*site, path("", include("arrears.fieldwork.urls"))]
