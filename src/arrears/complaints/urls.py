"""Complaint pages (the lead includes them at the site root: ``/complaints/…``)."""

from django.urls import path

from arrears.complaints import views

app_name = "complaints"
urlpatterns = [
    path("complaints/", views.complaint_list, name="list"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="detail"),
    path("complaints/<int:complaint_id>/letter.pdf", views.resolution_letter, name="letter"),
    path("complaints/case/<int:case_id>/new/", views.complaint_new, name="new"),
]
