"""Field-visit pages (the lead includes them at the site root: ``/visits/…``)."""

from django.urls import path

from arrears.fieldwork import views

app_name = "fieldwork"
urlpatterns = [
    path("visits/", views.visit_list, name="list"),
    path("visits/new/", views.visit_new, name="new"),
    path("visits/<int:visit_id>/", views.visit_detail, name="detail"),
    path("visits/<int:visit_id>/letter/", views.visit_letter, name="letter"),
]
