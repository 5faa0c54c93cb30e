from django.urls import path

from arrears.portal import plan_views, views

app_name = "portal"

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("code/", views.code, name="code"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("home/", views.home, name="home"),
    path("loans/<str:ref>/", views.loan, name="loan"),
    path("loans/<str:ref>/plan/", plan_views.plan, name="plan"),
    path("plan/", plan_views.start, name="plans"),
]
