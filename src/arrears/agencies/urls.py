"""The agency users' pages; the project mounts them at ``/agency/``."""

from django.urls import path

from arrears.agencies import views

app_name = "agencies"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("export.<str:fmt>", views.export, name="export"),
    path("results/", views.upload, name="upload"),
]
