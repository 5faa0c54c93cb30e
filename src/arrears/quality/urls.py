"""Compliance pages (the project includes them at the site root: ``/compliance/…``)."""

from django.urls import path

from arrears.quality import views

app_name = "quality"
urlpatterns = [
    path("compliance/decisions/", views.decisions, name="decisions"),
    path("compliance/contacts/", views.contacts, name="contacts"),
    path("compliance/reviews/", views.reviews, name="reviews"),
    path("compliance/reviews/samples/<int:sample_id>/", views.sample, name="sample"),
    path("compliance/reviews/contacts/<int:contact_id>/", views.review, name="review"),
    path("compliance/reviews/scorecards/", views.scorecards, name="scorecards"),
]
