from django.urls import path

from arrears.portal import pages, plan_views, views

app_name = "portal"

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("code/", views.code, name="code"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("home/", views.home, name="home"),
    path("loans/<str:ref>/", views.loan, name="loan"),
    path("verify/", pages.verify, name="verify"),
    path("preferences/", pages.preferences, name="preferences"),
    path("history/", pages.history, name="history"),
    path("complaints/", pages.complaint_list, name="complaints"),
    path("complaints/new/", pages.complaint_new, name="complaint-new"),
    path("complaints/<str:reference>/", pages.complaint_detail, name="complaint"),
    path("notices/", pages.notices, name="notices"),
    path("loans/<str:ref>/plan/", plan_views.plan, name="plan"),
    path("plan/", plan_views.start, name="plans"),
]
