from django.urls import path

from arrears.legal import views

app_name = "legal"
urlpatterns = [path("letters/<int:letter_id>/pdf", views.letter_pdf, name="pdf")]
