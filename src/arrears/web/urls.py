from django.urls import path

from arrears.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("loans/", views.loans_by_bucket, name="loans"),
    path("loans/<str:ref>/", views.loan_explain, name="explain"),
]
