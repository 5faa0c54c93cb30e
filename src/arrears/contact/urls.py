from django.urls import path

from arrears.contact import views

app_name = "contact"
urlpatterns = [
    path("webhooks/receipts/<str:provider>/", views.receipts, name="receipts"),
]
