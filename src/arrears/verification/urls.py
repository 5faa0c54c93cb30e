from django.urls import path

from arrears.verification import views

app_name = "verification"
urlpatterns = [path("verify/", views.check, name="check")]
