"""Audit pages (the lead includes them at the site root: ``/audit/…``)."""

from django.urls import path

from arrears.audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.trail, name="trail"),
    path("audit/case/<int:case_id>/bundle.zip", views.case_bundle, name="bundle"),
]
