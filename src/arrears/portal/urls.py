from django.urls import path

from arrears.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("code/", views.code, name="code"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("home/", views.home, name="home"),
    path("loans/<str:ref>/", views.loan, name="loan"),
]
