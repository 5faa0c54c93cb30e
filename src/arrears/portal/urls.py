from django.urls import path

from arrears.portal import pages, plan_views, views

app_name = "portal"

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("code/", views.code, name="code"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("home/", views.home, name="home"),
    # A reference stored with "/" (before the import refused it) is reachable too: ``path``,
    # with the longer plan route first so "<ref>/plan/" is never read as a reference.
    path("loans/<path:ref>/plan/", plan_views.plan, name="plan"),
    path("loans/<path:ref>/", views.loan, name="loan"),
    path("verify/", pages.verify, name="verify"),
    path("preferences/", pages.preferences, name="preferences"),
    path("history/", pages.history, name="history"),
    path("complaints/", pages.complaint_list, name="complaints"),
    path("complaints/new/", pages.complaint_new, name="complaint-new"),
    path("complaints/<str:reference>/", pages.complaint_detail, name="complaint"),
    path("notices/", pages.notices, name="notices"),
    path("plan/", plan_views.start, name="plans"),
]
