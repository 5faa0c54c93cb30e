"""Report pages (the project includes them at the site root: ``/reports/…``)."""

from django.urls import path

from arrears.reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/<slug:name>/", views.report, name="report"),
    path("reports/<slug:name>/download.<str:fmt>", views.download, name="download"),
]
