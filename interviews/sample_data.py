"""Deterministic, streaming generator of synthetic matched personas.

Each record has the input shape the pipeline reads (see DESIGN.md, Formats):
``{"persona_id": int, "persona": {...}, "health_record": {...}}``, with the same keys as the
hand-written ``data/sample/matched_personas.jsonl``.

People are assembled from *condition profiles*: a condition bundled with the medications, labs,
encounter reasons and worries that go with it. A profile's medications, labs and encounters
always travel together, so a generated person on metformin also has an HbA1c and a diabetes
follow-up. Names, places, jobs and life details come from pools keyed by age and cultural
background. Everything here is fictional.

Output depends only on ``seed`` (not on ``start_id`` or on how far a caller iterates), and every
random draw goes through one local ``random.Random``, so the same seed always produces
byte-identical JSONL.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import orjson

_T = TypeVar("_T")

# --------------------------------------------------------------------------------------------
# Condition profiles
#
# Medication tuples are (name, dose, frequency, purpose, drug_class). The class lets two
# profiles share a patient without doubling up on one drug class (an ACE inhibitor for
# hypertension next to sacubitril/valsartan for heart failure would be a real prescribing error);
# the first profile picked keeps its drug, the later one drops its duplicate.
# Lab tuples are (test, low, high, decimals, unit): values are drawn uniformly in the range,
# which is chosen to be plausible for someone who has that condition; a string ``low`` is a
# fixed result such as "<20" (an undetectable viral load has no numeric value).
# Profiles avoid listing a test another co-occurring profile owns with a different range
# (e.g. eGFR belongs to CKD), because only the first profile's copy of a test is kept.
# --------------------------------------------------------------------------------------------

_ANY = "any"

_PROFILES: tuple[dict, ...] = (
    {
        "key": "t2d",
        "group": "diabetes",
        "name": "Type 2 diabetes mellitus",
        "sex": _ANY,
        "ages": (30, 95),
        "max_years": 25,
        "statuses": ("active, controlled", "active, above target", "active, improving"),
        "meds": (
            ("Metformin", "1000 mg", "twice daily with meals", "type 2 diabetes", "biguanide"),
            ("Empagliflozin", "10 mg", "once daily", "type 2 diabetes", "sglt2"),
        ),
        "labs": (
            ("HbA1c", 6.5, 9.8, 1, "%"),
            ("Fasting glucose", 110, 210, 0, "mg/dL"),
        ),
        "encounters": (
            ("primary care", "Diabetes follow-up", "Reviewed glucose log and foot check."),
            ("specialist", "Diabetic eye exam", "No diabetic retinopathy; repeat in 12 months."),
            ("telehealth", "Medication check", "Tolerating metformin; GI upset has settled."),
        ),
        "concerns": ("Blood sugar control", "Needing insulin one day", "Cost of test strips"),
    },
    {
        "key": "t1d",
        "group": "diabetes",
        "name": "Type 1 diabetes mellitus",
        "sex": _ANY,
        "ages": (18, 80),
        "max_years": 40,
        "pregnancy_safe": True,
        "statuses": ("active, controlled", "active, above target"),
        "meds": (
            ("Insulin glargine", "22 units", "once daily at bedtime", "basal insulin", "basal"),
            (
                "Insulin aspart",
                "1 unit per 10 g carbohydrate",
                "with meals",
                "mealtime insulin",
                "bolus",
            ),
        ),
        "labs": (
            ("HbA1c", 6.6, 9.4, 1, "%"),
            ("CGM time in range", 45, 82, 0, "%"),
        ),
        "encounters": (
            ("specialist", "Endocrinology review", "CGM download reviewed; basal dose adjusted."),
            ("ED", "Severe hypoglycemia", "Glucose 42 mg/dL; treated with IV dextrose."),
        ),
        "concerns": ("Lows overnight", "Insulin prices", "CGM sensor reliability"),
    },
    {
        "key": "htn",
        "group": "htn",
        "name": "Essential hypertension",
        "sex": _ANY,
        "ages": (30, 95),
        "max_years": 30,
        "statuses": ("active, controlled", "active, not at goal"),
        "meds": (
            ("Lisinopril", "20 mg", "once daily", "blood pressure", "raas"),
            ("Amlodipine", "5 mg", "once daily", "blood pressure", "ccb"),
        ),
        "labs": (
            ("Potassium", 3.8, 5.0, 1, "mmol/L"),
            ("Creatinine", 0.7, 1.2, 2, "mg/dL"),
        ),
        "encounters": (
            (
                "primary care",
                "Blood pressure check",
                "Home readings reviewed; continue current plan.",
            ),
            (
                "telehealth",
                "Blood pressure follow-up",
                "Advised lower salt intake; recheck in 3 months.",
            ),
        ),
        "concerns": ("Stroke risk", "Remembering daily tablets"),
    },
    {
        "key": "lipids",
        "group": "lipids",
        "name": "Hyperlipidemia",
        "sex": _ANY,
        "ages": (35, 95),
        "max_years": 20,
        "statuses": ("active, controlled", "active, above target"),
        "meds": (("Atorvastatin", "40 mg", "once daily", "cholesterol", "statin"),),
        "labs": (
            ("LDL cholesterol", 70, 160, 0, "mg/dL"),
            ("Total cholesterol", 150, 250, 0, "mg/dL"),
        ),
        "encounters": (
            ("primary care", "Cholesterol review", "Lipid panel reviewed; continue statin."),
        ),
        "concerns": ("Statin side effects", "Family history of heart attacks"),
    },
    {
        "key": "hf",
        "group": "cardiac",
        "name": "Heart failure with reduced ejection fraction",
        "sex": _ANY,
        "ages": (50, 95),
        "max_years": 10,
        "statuses": ("active, NYHA class II", "active, NYHA class III", "stable"),
        "meds": (
            ("Sacubitril/valsartan", "49/51 mg", "twice daily", "heart failure", "raas"),
            ("Metoprolol succinate", "50 mg", "once daily", "heart failure", "beta_blocker"),
            ("Dapagliflozin", "10 mg", "once daily", "heart failure", "sglt2"),
            ("Furosemide", "40 mg", "once daily in the morning", "fluid retention", "loop"),
        ),
        "labs": (
            ("NT-proBNP", 600, 4200, 0, "pg/mL"),
            ("Sodium", 133, 142, 0, "mmol/L"),
            ("Potassium", 3.9, 5.2, 1, "mmol/L"),
        ),
        "encounters": (
            ("ED", "Shortness of breath and leg swelling", "Fluid overload; IV diuretics given."),
            ("specialist", "Cardiology follow-up", "Echo EF 30–35%; therapy optimised."),
            ("telehealth", "Daily weight review", "Weight stable; continue current diuretic dose."),
        ),
        "concerns": ("Breathlessness on stairs", "Ankle swelling", "Too many pills"),
    },
    {
        "key": "af",
        "group": "af",
        "name": "Atrial fibrillation",
        "sex": _ANY,
        "ages": (55, 95),
        "max_years": 15,
        "statuses": ("active, rate controlled", "paroxysmal"),
        "meds": (
            ("Apixaban", "5 mg", "twice daily", "stroke prevention", "anticoagulant"),
            ("Metoprolol succinate", "50 mg", "once daily", "heart rate control", "beta_blocker"),
        ),
        "labs": (("Hemoglobin", 12.0, 15.5, 1, "g/dL"),),
        "encounters": (
            ("specialist", "Cardiology: palpitations", "ECG: AF with controlled rate."),
            ("ED", "Racing heart", "AF with rapid ventricular response; rate controlled in ED."),
        ),
        "concerns": ("Bleeding on blood thinners", "Having a stroke"),
    },
    {
        "key": "cad",
        "group": "cardiac",
        "name": "Coronary artery disease with stent",
        "sex": _ANY,
        "ages": (45, 95),
        "max_years": 12,
        "statuses": ("stable", "stable, no angina"),
        "meds": (
            ("Aspirin", "81 mg", "once daily", "heart (antiplatelet)", "antiplatelet"),
            ("Atorvastatin", "80 mg", "once daily", "cholesterol and heart protection", "statin"),
            ("Metoprolol succinate", "25 mg", "once daily", "heart", "beta_blocker"),
            ("Nitroglycerin", "0.4 mg under the tongue", "as needed", "chest pain", "nitrate"),
        ),
        "labs": (("LDL cholesterol", 45, 90, 0, "mg/dL"),),
        "encounters": (
            ("specialist", "Cardiology follow-up", "No angina; continue secondary prevention."),
            ("ED", "Chest pain", "Troponin negative; musculoskeletal pain."),
        ),
        "concerns": ("Another heart attack", "Chest tightness when walking in the cold"),
    },
    {
        "key": "ckd",
        "group": "ckd",
        "name": "Chronic kidney disease stage 3a",
        "sex": _ANY,
        "ages": (45, 95),
        "max_years": 10,
        "statuses": ("stable", "slowly progressive"),
        "meds": (
            ("Lisinopril", "10 mg", "once daily", "kidney protection", "raas"),
            ("Dapagliflozin", "10 mg", "once daily", "kidney protection", "sglt2"),
        ),
        "labs": (
            ("eGFR", 45, 59, 0, "mL/min/1.73m²"),
            ("Urine albumin-to-creatinine ratio", 30, 280, 0, "mg/g"),
            ("Potassium", 4.2, 5.3, 1, "mmol/L"),
        ),
        "encounters": (
            ("specialist", "Nephrology review", "Kidney function stable; avoid NSAIDs."),
            ("primary care", "Kidney function bloods", "eGFR stable on repeat testing."),
        ),
        "concerns": ("Needing dialysis", "Which painkillers are safe"),
    },
    {
        "key": "copd",
        "group": "lung",
        "name": "Chronic obstructive pulmonary disease",
        "sex": _ANY,
        "ages": (45, 95),
        "max_years": 15,
        "statuses": ("active, GOLD 2", "active, GOLD 3", "active, frequent exacerbations"),
        "smoking": ("Former; quit with 35 pack-years", "Current; 10 cigarettes a day"),
        "meds": (
            (
                "Tiotropium/olodaterol",
                "2.5/2.5 mcg, 2 puffs",
                "once daily",
                "COPD maintenance",
                "lama",
            ),
            (
                "Albuterol inhaler",
                "90 mcg, 2 puffs",
                "every 4–6 hours as needed",
                "breathlessness",
                "saba",
            ),
        ),
        "labs": (
            ("FEV1 (% predicted)", 35, 75, 0, "%"),
            ("FEV1/FVC ratio", 0.45, 0.68, 2, "ratio"),
        ),
        "encounters": (
            ("ED", "COPD exacerbation", "Prednisone 40 mg for 5 days and antibiotics."),
            ("specialist", "Pulmonology follow-up", "Inhaler technique reviewed; pulmonary rehab."),
            ("primary care", "Flu vaccine and COPD review", "Action plan updated."),
        ),
        "concerns": ("Running out of breath", "Winter chest infections", "Needing oxygen"),
    },
    {
        "key": "asthma",
        "group": "lung",
        "name": "Asthma",
        "sex": _ANY,
        "ages": (18, 90),
        "max_years": 40,
        "pregnancy_safe": True,
        "statuses": ("active, well controlled", "active, partly controlled"),
        "meds": (
            (
                "Budesonide/formoterol inhaler",
                "160/4.5 mcg, 2 puffs",
                "twice daily and as needed",
                "asthma maintenance and reliever",
                "ics",
            ),
        ),
        "labs": (
            ("Blood eosinophils", 0.1, 0.6, 2, "×10⁹/L"),
            ("FEV1 (% predicted)", 70, 98, 0, "%"),
        ),
        "encounters": (
            ("primary care", "Asthma review", "Inhaler technique checked; action plan updated."),
            ("ED", "Asthma attack", "Nebulised bronchodilator and 5 days of prednisone."),
        ),
        "concerns": ("Asthma attacks at night", "Pollen and smoke triggers"),
    },
    {
        "key": "depression",
        "group": "mood",
        "name": "Major depressive disorder",
        "sex": _ANY,
        "ages": (18, 95),
        "max_years": 15,
        "pregnancy_safe": True,
        "statuses": ("active, improving", "in partial remission", "in remission"),
        "meds": (("Sertraline", "100 mg", "once daily", "depression", "ssri"),),
        "labs": (("TSH", 0.8, 3.8, 1, "mIU/L"),),
        "encounters": (
            ("primary care", "Mood follow-up", "PHQ-9 improving; continue sertraline."),
            ("telehealth", "Therapy check-in", "Attending CBT; no thoughts of self-harm."),
        ),
        "concerns": ("Low mood and motivation", "Side effects of antidepressants"),
    },
    {
        "key": "anxiety",
        "group": "mood",
        "name": "Generalized anxiety disorder",
        "sex": _ANY,
        "ages": (18, 90),
        "max_years": 15,
        "pregnancy_safe": True,
        "statuses": ("active", "active, improving"),
        "meds": (("Escitalopram", "10 mg", "once daily", "anxiety", "ssri"),),
        "labs": (),
        "encounters": (
            ("telehealth", "Anxiety check-in", "GAD-7 down since last visit; continue."),
            ("primary care", "Panic attacks", "Referred for CBT; started escitalopram."),
        ),
        "concerns": ("Panic attacks", "Trouble sleeping"),
    },
    {
        "key": "hypothyroid",
        "group": "thyroid",
        "name": "Hypothyroidism",
        "sex": _ANY,
        "ages": (20, 95),
        "max_years": 30,
        "pregnancy_safe": True,
        "statuses": ("controlled", "active, dose being adjusted"),
        "meds": (
            (
                "Levothyroxine",
                "75 mcg",
                "once daily on an empty stomach",
                "hypothyroidism",
                "thyroid",
            ),
        ),
        "labs": (("TSH", 0.6, 5.5, 1, "mIU/L"), ("Free T4", 0.9, 1.6, 1, "ng/dL")),
        "encounters": (
            ("primary care", "Thyroid blood test review", "TSH in range; continue dose."),
        ),
        "concerns": ("Tiredness", "Weight gain"),
    },
    {
        "key": "oa",
        "group": "joints",
        "name": "Osteoarthritis of the knees",
        "sex": _ANY,
        "ages": (50, 95),
        "max_years": 20,
        "statuses": ("active", "active, worsening"),
        "meds": (
            (
                "Acetaminophen",
                "1 g",
                "up to three times daily as needed",
                "joint pain",
                "analgesic",
            ),
            (
                "Diclofenac 1% gel",
                "4 g",
                "up to four times daily to knees",
                "joint pain",
                "topical",
            ),
        ),
        "labs": (),
        "encounters": (
            ("primary care", "Knee pain", "X-ray: moderate degenerative change. PT referral."),
            (
                "specialist",
                "Orthopedics",
                "Steroid injection to right knee; discussed replacement.",
            ),
        ),
        "concerns": ("Knee pain on stairs", "Needing a knee replacement"),
    },
    {
        "key": "osteoporosis",
        "group": "bone",
        "name": "Osteoporosis",
        "sex": "female",
        "ages": (60, 95),
        "max_years": 12,
        "statuses": ("active, on treatment",),
        "meds": (
            (
                "Alendronate",
                "70 mg",
                "once weekly, upright on an empty stomach",
                "osteoporosis",
                "bisphosphonate",
            ),
            ("Calcium/vitamin D", "600 mg/800 IU", "once daily", "bone health", "supplement"),
        ),
        "labs": (
            ("Vitamin D (25-OH)", 22, 48, 0, "ng/mL"),
            ("Calcium", 8.8, 10.1, 1, "mg/dL"),
        ),
        "encounters": (
            (
                "primary care",
                "Bone density results",
                "DEXA: hip T-score -2.7; continue alendronate.",
            ),
            ("ED", "Fall at home", "Wrist sprain; no fracture on X-ray."),
        ),
        "concerns": ("Breaking a hip", "Falling"),
    },
    {
        "key": "ra",
        "group": "joints",
        "name": "Rheumatoid arthritis",
        "sex": _ANY,
        "ages": (25, 90),
        "max_years": 20,
        "statuses": ("active, low disease activity", "active, moderate disease activity"),
        "meds": (
            ("Methotrexate", "15 mg", "once weekly", "rheumatoid arthritis", "dmard"),
            ("Folic acid", "1 mg", "once daily", "reduce methotrexate side effects", "folate"),
        ),
        "labs": (
            ("CRP", 2, 25, 0, "mg/L"),
            ("ALT", 14, 45, 0, "U/L"),
            ("ESR", 8, 40, 0, "mm/h"),
        ),
        "encounters": (
            ("specialist", "Rheumatology review", "DAS28 reviewed; continue methotrexate."),
            ("primary care", "Methotrexate monitoring bloods", "Liver and blood counts normal."),
        ),
        "concerns": ("Morning stiffness in the hands", "Long-term side effects of methotrexate"),
    },
    {
        "key": "long_covid",
        "group": "long_covid",
        "name": "Long COVID (post-COVID-19 condition)",
        "sex": _ANY,
        "ages": (20, 75),
        "max_years": 2,
        "statuses": ("active", "active, slowly improving"),
        "meds": (("Melatonin", "3 mg", "once nightly", "sleep", "sleep_aid"),),
        "labs": (("Ferritin", 30, 180, 0, "ng/mL"), ("CRP", 0.5, 4.0, 1, "mg/L")),
        "encounters": (
            ("specialist", "Post-COVID clinic", "Pacing advice; fatigue and brain fog persist."),
            ("primary care", "Fatigue and brain fog", "Bloods normal; phased return to work."),
        ),
        "concerns": ("Crashing after activity", "Brain fog at work", "Not being believed"),
    },
    {
        "key": "pregnancy",
        "group": "pregnancy",
        "name": "Pregnancy, second trimester",
        "sex": "female",
        "ages": (18, 44),
        "max_years": 0,
        "pregnancy_safe": True,
        "statuses": ("active, low risk", "active, routine care"),
        "meds": (
            (
                "Prenatal multivitamin with folic acid",
                "1 tablet",
                "once daily",
                "pregnancy supplementation",
                "prenatal",
            ),
        ),
        "labs": (
            ("Hemoglobin", 10.6, 13.2, 1, "g/dL"),
            ("1-hour glucose challenge", 95, 138, 0, "mg/dL"),
        ),
        "encounters": (
            ("primary care", "Prenatal visit", "Fetal heart rate normal; fundal height on track."),
            ("specialist", "Obstetric ultrasound", "Anatomy scan normal."),
        ),
        "concerns": (
            "The baby's health",
            "Labor and delivery",
            "Returning to work after the birth",
        ),
    },
    {
        "key": "migraine",
        "group": "migraine",
        "name": "Migraine without aura",
        "sex": _ANY,
        "ages": (18, 65),
        "max_years": 20,
        "statuses": ("active, episodic", "active, 2–4 attacks a month"),
        "meds": (
            ("Sumatriptan", "50 mg", "at headache onset, may repeat once", "migraine", "triptan"),
            # Not propranolol: a non-selective beta blocker can trigger bronchospasm in asthma.
            ("Amitriptyline", "10 mg", "once nightly", "migraine prevention", "tca"),
        ),
        "labs": (),
        "encounters": (
            ("primary care", "Headaches", "Headache diary reviewed; started prevention."),
            ("ED", "Severe migraine", "IV fluids, metoclopramide; CT not indicated."),
        ),
        "concerns": ("Missing work for migraines", "Painkiller overuse"),
    },
    {
        "key": "gerd",
        "group": "gerd",
        "name": "Gastroesophageal reflux disease",
        "sex": _ANY,
        "ages": (20, 95),
        "max_years": 15,
        "pregnancy_safe": True,
        "statuses": ("active, controlled",),
        "meds": (("Omeprazole", "20 mg", "once daily before breakfast", "acid reflux", "ppi"),),
        "labs": (),
        "encounters": (
            ("primary care", "Heartburn", "Lifestyle advice; continue omeprazole."),
            ("telehealth", "Reflux follow-up", "Discussed stepping down to as-needed use."),
        ),
        "concerns": ("Heartburn at night",),
    },
    {
        "key": "osa",
        "group": "osa",
        "name": "Obstructive sleep apnea",
        "sex": _ANY,
        "ages": (30, 85),
        "max_years": 10,
        "bmi": (31.0, 42.0),
        "statuses": ("active, treated with CPAP", "active, CPAP adherence poor"),
        "meds": (),
        "labs": (),
        "encounters": (
            ("specialist", "Sleep medicine", "Sleep study: moderate OSA; CPAP started."),
            ("telehealth", "CPAP compliance review", "Average use reviewed; mask refitted."),
        ),
        "concerns": ("Daytime sleepiness", "Getting used to the CPAP mask"),
    },
    {
        "key": "crohns",
        "group": "ibd",
        "name": "Crohn's disease",
        "sex": _ANY,
        "ages": (18, 70),
        "max_years": 20,
        "statuses": ("in remission", "active, mild flare"),
        "meds": (
            (
                "Adalimumab",
                "40 mg subcutaneous injection",
                "every 2 weeks",
                "Crohn's disease",
                "biologic",
            ),
        ),
        "labs": (("Fecal calprotectin", 40, 450, 0, "µg/g"), ("CRP", 1, 20, 0, "mg/L")),
        "encounters": (
            (
                "specialist",
                "Gastroenterology (IBD clinic)",
                "Calprotectin reviewed; continue biologic.",
            ),
            ("ED", "Abdominal pain and diarrhea", "CT: ileal inflammation, no obstruction."),
        ),
        "concerns": ("Urgent trips to the bathroom", "Infections on a biologic"),
    },
    {
        "key": "hiv",
        "group": "hiv",
        "name": "HIV infection, virally suppressed",
        "sex": _ANY,
        "ages": (22, 80),
        "max_years": 25,
        "statuses": ("stable, undetectable viral load",),
        "meds": (
            (
                "Bictegravir/emtricitabine/tenofovir alafenamide",
                "50/200/25 mg",
                "once daily",
                "HIV",
                "art",
            ),
        ),
        "labs": (
            ("CD4 count", 450, 1100, 0, "cells/µL"),
            ("HIV-1 RNA", "<20", None, 0, "copies/mL"),
        ),
        "encounters": (
            ("specialist", "Infectious diseases clinic", "Viral load undetectable; continue ART."),
        ),
        "concerns": ("Stigma", "Long-term medication side effects"),
    },
    {
        "key": "bph",
        "group": "bph",
        "name": "Benign prostatic hyperplasia",
        "sex": "male",
        "ages": (55, 95),
        "max_years": 10,
        "statuses": ("active, mild symptoms", "active, moderate symptoms"),
        "meds": (("Tamsulosin", "0.4 mg", "once daily at bedtime", "urinary symptoms", "alpha"),),
        "labs": (("PSA", 0.8, 3.9, 1, "ng/mL"),),
        "encounters": (
            ("primary care", "Getting up at night to urinate", "Started tamsulosin."),
            ("specialist", "Urology", "Prostate enlarged, smooth; PSA stable."),
        ),
        "concerns": ("Getting up at night", "Prostate cancer"),
    },
    {
        "key": "parkinsons",
        "group": "neuro",
        "name": "Parkinson's disease",
        "sex": _ANY,
        "ages": (60, 95),
        "max_years": 10,
        "statuses": ("active, mild", "active, moderate with wearing-off"),
        "meds": (
            (
                "Carbidopa/levodopa",
                "25/100 mg",
                "three times daily",
                "Parkinson's disease",
                "dopaminergic",
            ),
        ),
        "labs": (("Vitamin B12", 300, 800, 0, "pg/mL"),),
        "encounters": (
            ("specialist", "Neurology", "Tremor stable; physical therapy for gait."),
            ("ED", "Fall at home", "Bruised hip; no fracture."),
        ),
        "concerns": ("Tremor in public", "Falls"),
    },
    {
        "key": "dementia",
        "group": "neuro",
        "name": "Alzheimer's disease, mild",
        "sex": _ANY,
        "ages": (70, 95),
        "max_years": 5,
        "statuses": ("active, mild", "active, slowly progressing"),
        "meds": (("Donepezil", "10 mg", "once daily at bedtime", "memory", "cholinesterase"),),
        "labs": (("Vitamin B12", 280, 700, 0, "pg/mL"), ("TSH", 0.8, 3.5, 1, "mIU/L")),
        "encounters": (
            ("specialist", "Memory clinic", "MoCA stable; caregiver support discussed."),
            ("primary care", "Medication review with family", "Pill organizer set up."),
        ),
        "concerns": ("Forgetting things", "Being a burden on family"),
    },
    {
        "key": "allergic_rhinitis",
        "group": "allergy",
        "name": "Seasonal allergic rhinitis",
        "sex": _ANY,
        "ages": (18, 70),
        "max_years": 20,
        "pregnancy_safe": True,
        "statuses": ("active, seasonal",),
        "meds": (
            ("Cetirizine", "10 mg", "once daily as needed", "allergy symptoms", "antihistamine"),
            (
                "Fluticasone nasal spray",
                "2 sprays each nostril",
                "once daily in allergy season",
                "nasal congestion",
                "nasal_steroid",
            ),
        ),
        "labs": (),
        "encounters": (
            ("telehealth", "Hay fever", "Advised daily nasal steroid through the season."),
        ),
        "concerns": ("Pollen season", "Drowsiness from antihistamines"),
    },
)

# Medication entries are built once per profile; records get copies, so a caller that edits one
# record cannot change later ones.
_MED_ENTRIES = {
    profile["key"]: tuple(
        (drug_class, {"name": name, "dose": dose, "frequency": frequency, "purpose": purpose})
        for name, dose, frequency, purpose, drug_class in profile["meds"]
    )
    for profile in _PROFILES
}

# Encounters for people without a chronic condition, so everyone has a recent contact.
_ROUTINE_ENCOUNTERS = (
    ("primary care", "Annual physical", "Routine screening up to date."),
    ("telehealth", "Sore throat", "Likely viral; supportive care."),
    ("ED", "Ankle sprain", "X-ray negative; RICE and crutches."),
    ("primary care", "Vaccinations", "Flu and COVID-19 vaccines given."),
    ("ED", "Cut finger", "Laceration repaired with 3 sutures."),
    ("telehealth", "Urinary symptoms", "Urine dipstick positive; 3 days of antibiotics."),
)

# Drug and food allergies; none of these collide with a profile medication.
_ALLERGIES = (
    ("Penicillin", "hives"),
    ("Sulfonamide antibiotics", "rash"),
    ("Codeine", "nausea and vomiting"),
    ("Peanuts", "throat swelling"),
    ("Shellfish", "hives and lip swelling"),
    ("Latex", "contact dermatitis"),
    ("Amoxicillin", "rash"),
    ("Iodinated contrast", "hives"),
    ("Bee stings", "anaphylaxis"),
)

# --------------------------------------------------------------------------------------------
# People pools
# --------------------------------------------------------------------------------------------

# (heritage phrase, female names, male names, gender-neutral names, surnames, locations)
_CULTURES: tuple[tuple, ...] = (
    (
        "an Irish-American",
        ("Kathleen", "Erin", "Maureen", "Siobhan", "Colleen"),
        ("Patrick", "Sean", "Brendan", "Kevin", "Michael"),
        ("Riley", "Casey", "Quinn"),
        ("O'Brien", "Murphy", "Kelly", "Doyle", "Fitzgerald"),
        ("Boston, Massachusetts, USA", "Chicago, Illinois, USA", "Philadelphia, Pennsylvania, USA"),
    ),
    (
        "a Mexican-American",
        ("Guadalupe", "Maria", "Sofia", "Veronica", "Rosa"),
        ("Jose", "Miguel", "Alejandro", "Luis", "Javier"),
        ("Alex", "Cruz", "Ari"),
        ("Hernandez", "Garcia", "Lopez", "Martinez", "Ramirez"),
        ("El Paso, Texas, USA", "Los Angeles, California, USA", "Tucson, Arizona, USA"),
    ),
    (
        "an African American",
        ("Keisha", "Tamika", "Denise", "Imani", "Gloria"),
        ("Marcus", "Andre", "Terrence", "Jamal", "Curtis"),
        ("Jordan", "Taylor", "Morgan"),
        ("Washington", "Jackson", "Robinson", "Harris", "Coleman"),
        ("Atlanta, Georgia, USA", "Baltimore, Maryland, USA", "Memphis, Tennessee, USA"),
    ),
    (
        "an English",
        ("Margaret", "Sarah", "Helen", "Lucy", "Joan"),
        ("David", "Peter", "Thomas", "Graham", "Oliver"),
        ("Sam", "Charlie", "Robin"),
        ("Smith", "Taylor", "Walker", "Harrison", "Clarke"),
        ("Leeds, West Yorkshire, UK", "Bristol, England, UK", "Norwich, Norfolk, UK"),
    ),
    (
        "a Scottish",
        ("Fiona", "Morag", "Eilidh", "Kirsty", "Isla"),
        ("Callum", "Fraser", "Angus", "Euan", "Hamish"),
        ("Rowan", "Jamie", "Ali"),
        ("MacDonald", "Campbell", "Stewart", "Fraser", "Robertson"),
        ("Edinburgh, Scotland, UK", "Aberdeen, Scotland, UK", "Dundee, Scotland, UK"),
    ),
    (
        "a Nigerian",
        ("Ngozi", "Funmilayo", "Chiamaka", "Adaeze", "Yetunde"),
        ("Chinedu", "Oluwaseun", "Emeka", "Tunde", "Ifeanyi"),
        ("Tobi", "Ayo", "Kelechi"),
        ("Okafor", "Adeyemi", "Eze", "Balogun", "Nwosu"),
        ("London, England, UK", "Houston, Texas, USA", "Calgary, Alberta, Canada"),
    ),
    (
        "a Punjabi",
        ("Harpreet", "Gurpreet", "Simran", "Manjit", "Jaspreet"),
        ("Harjit", "Gurdeep", "Rajinder", "Amrit", "Sukhwinder"),
        ("Arshdeep", "Navjot", "Kiran"),
        ("Singh", "Kaur", "Sandhu", "Gill", "Dhillon"),
        (
            "Brampton, Ontario, Canada",
            "Surrey, British Columbia, Canada",
            "Birmingham, England, UK",
        ),
    ),
    (
        "a Pakistani",
        ("Nasreen", "Ayesha", "Samina", "Fatima", "Rubina"),
        ("Imran", "Tariq", "Asif", "Bilal", "Shahid"),
        ("Rayan", "Noor", "Zain"),
        ("Khan", "Hussain", "Ahmed", "Iqbal", "Malik"),
        ("Bradford, West Yorkshire, UK", "Manchester, England, UK", "Mississauga, Ontario, Canada"),
    ),
    (
        "a Chinese",
        ("Mei", "Xiu Ying", "Li Na", "Jia", "Wen"),
        ("Wei", "Jun", "Hao", "Ming", "Chen"),
        ("Yu", "An", "Lin"),
        ("Wang", "Li", "Zhang", "Liu", "Huang"),
        (
            "Vancouver, British Columbia, Canada",
            "Sydney, New South Wales, Australia",
            "San Francisco, California, USA",
        ),
    ),
    (
        "a Vietnamese",
        ("Linh", "Thu", "Mai", "Hoa", "Lan"),
        ("Minh", "Tuan", "Duc", "Quang", "Hung"),
        ("Anh", "Khanh", "Bao"),
        ("Nguyen", "Tran", "Le", "Pham", "Vo"),
        ("Melbourne, Victoria, Australia", "San Jose, California, USA", "Houston, Texas, USA"),
    ),
    (
        "a Filipino",
        ("Maricel", "Rosario", "Jocelyn", "Angelica", "Divina"),
        ("Rodel", "Jomar", "Emmanuel", "Ramon", "Arnel"),
        ("Jay", "Kris", "Ali"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Dela Cruz"),
        ("Winnipeg, Manitoba, Canada", "Daly City, California, USA", "Honolulu, Hawaii, USA"),
    ),
    (
        "an Italian",
        ("Giulia", "Antonella", "Francesca", "Lucia", "Carmela"),
        ("Giuseppe", "Marco", "Antonio", "Salvatore", "Luca"),
        ("Andrea", "Sasha", "Nico"),
        ("Russo", "Romano", "Esposito", "Ferraro", "Costa"),
        (
            "Adelaide, South Australia, Australia",
            "Toronto, Ontario, Canada",
            "Providence, Rhode Island, USA",
        ),
    ),
    (
        "a Polish",
        ("Agnieszka", "Katarzyna", "Ewa", "Zofia", "Magdalena"),
        ("Piotr", "Tomasz", "Krzysztof", "Marek", "Jakub"),
        ("Alex", "Kuba", "Nikola"),
        ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński"),
        ("Chicago, Illinois, USA", "Peterborough, England, UK", "Edmonton, Alberta, Canada"),
    ),
    (
        "a Lebanese",
        ("Rania", "Layla", "Nadia", "Hiba", "Mariam"),
        ("Karim", "Ali", "Omar", "Elie", "Georges"),
        ("Rami", "Nour", "Sami"),
        ("Khoury", "Haddad", "Nassar", "Saad", "Fakhoury"),
        (
            "Dearborn, Michigan, USA",
            "Sydney, New South Wales, Australia",
            "Montreal, Quebec, Canada",
        ),
    ),
    (
        "a Jamaican",
        ("Sharon", "Marcia", "Shanice", "Paulette", "Tanisha"),
        ("Delroy", "Winston", "Andre", "Devon", "Kemar"),
        ("Jaden", "Ashley", "Shea"),
        ("Campbell", "Brown", "Williams", "Clarke", "Thompson"),
        ("Birmingham, England, UK", "Toronto, Ontario, Canada", "Brooklyn, New York, USA"),
    ),
    (
        "a Korean",
        ("Ji-woo", "Soo-jin", "Min-ji", "Eun-young", "Hye-jin"),
        ("Min-jun", "Ji-hoon", "Sung-min", "Dong-hyun", "Jae-won"),
        ("Hyun", "Ha-neul", "Jin"),
        ("Kim", "Lee", "Park", "Choi", "Jung"),
        (
            "Los Angeles, California, USA",
            "Fort Lee, New Jersey, USA",
            "Sydney, New South Wales, Australia",
        ),
    ),
    (
        "a French-Canadian",
        ("Geneviève", "Isabelle", "Nathalie", "Josée", "Chantal"),
        ("Jean-François", "Mathieu", "Luc", "Yves", "Étienne"),
        ("Dominique", "Claude", "Camille"),
        ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard"),
        (
            "Quebec City, Quebec, Canada",
            "Sherbrooke, Quebec, Canada",
            "Moncton, New Brunswick, Canada",
        ),
    ),
    (
        "a Cree",
        ("Cheryl", "Tanya", "Angela", "Marlene", "Brenda"),
        ("Wayne", "Darren", "Kyle", "Dale", "Curtis"),
        ("Sky", "River", "Jesse"),
        ("Cardinal", "McKay", "Sinclair", "Linklater", "Bear"),
        (
            "Saskatoon, Saskatchewan, Canada",
            "Prince Albert, Saskatchewan, Canada",
            "Edmonton, Alberta, Canada",
        ),
    ),
    (
        "a Māori",
        ("Aroha", "Mereana", "Kiri", "Hine", "Anahera"),
        ("Tama", "Wiremu", "Rawiri", "Nikau", "Hemi"),
        ("Ari", "Manaia", "Kai"),
        ("Ngata", "Parata", "Tipene", "Walker", "Henare"),
        (
            "Rotorua, Bay of Plenty, New Zealand",
            "Auckland, New Zealand",
            "Brisbane, Queensland, Australia",
        ),
    ),
    (
        "an Australian",
        ("Kylie", "Michelle", "Narelle", "Jess", "Bronwyn"),
        ("Craig", "Shane", "Darren", "Bruce", "Lachlan"),
        ("Jordan", "Bailey", "Jess"),
        ("Mitchell", "Wilson", "Anderson", "Cooper", "Ryan"),
        (
            "Perth, Western Australia, Australia",
            "Newcastle, New South Wales, Australia",
            "Hobart, Tasmania, Australia",
        ),
    ),
)

# (job title, education); article is worked out once at import time.
_JOBS = (
    ("Registered nurse", "Bachelor's degree in nursing"),
    ("Electrician", "Trade apprenticeship"),
    ("Accountant", "Bachelor's degree in accounting"),
    ("Warehouse associate", "High school diploma"),
    ("Primary school teacher", "Bachelor's degree in education"),
    ("Truck driver", "High school diploma; commercial driver's license"),
    ("Software developer", "Bachelor's degree in computer science"),
    ("Home care aide", "Some high school"),
    ("Retail store manager", "Some college"),
    ("Civil engineer", "Master's degree in engineering"),
    ("Hairdresser", "Cosmetology diploma"),
    ("Line cook", "High school diploma"),
    ("Pharmacist", "Doctor of Pharmacy"),
    ("Bus driver", "High school diploma"),
    ("Office administrator", "Diploma in business administration"),
    ("Carpenter", "Trade apprenticeship"),
    ("Social worker", "Master's degree in social work"),
    ("Police officer", "Associate degree in criminal justice"),
    ("Farmer", "Left school at 16"),
    ("Call center agent", "High school diploma"),
    ("Lawyer", "Law degree"),
    ("Cleaner", "Some high school"),
    ("Dental hygienist", "Associate degree in dental hygiene"),
    ("Small business owner", "Some college"),
)

_STUDENT_JOBS = (
    ("University student", "Some university (in progress)"),
    ("Community college student and part-time barista", "Some college (in progress)"),
    ("Apprentice plumber", "High school diploma; apprenticeship in progress"),
    ("Retail sales assistant", "High school diploma"),
)

_LIVING = (
    # 18-29
    (
        "Shares a rented apartment with two roommates.",
        "Lives with their parents and younger siblings.",
        "Lives with a partner in a small rented flat.",
        "Lives alone in a studio apartment.",
    ),
    # 30-44
    (
        "Lives with a spouse and two young children.",
        "Lives alone in a rented apartment.",
        "Single parent living with a teenage child.",
        "Lives with a partner and a dog.",
    ),
    # 45-64
    (
        "Lives with a spouse; their adult children have moved out.",
        "Lives with a spouse, two teenagers and an elderly parent.",
        "Lives alone after a divorce.",
        "Lives with a partner and an adult son who is between jobs.",
    ),
    # 65-79
    (
        "Lives with a spouse in the family home.",
        "Lives alone since being widowed; a daughter lives nearby.",
        "Lives with an adult child's family.",
        "Lives in a retirement community apartment.",
    ),
    # 80+
    (
        "Lives alone with daily visits from a home care aide.",
        "Lives in an assisted living facility.",
        "Lives with a daughter and son-in-law.",
        "Lives with a spouse who helps with medications.",
    ),
)

_DETAILS = (
    # 18-29
    (
        "Plays in a weekend soccer league.",
        "Saving up to move out on their own.",
        "Spends most evenings gaming online with friends.",
        "Volunteers at an animal shelter.",
    ),
    # 30-44
    (
        "Juggles work with school runs and little sleep.",
        "Coaches a youth basketball team.",
        "Recently started a side business.",
        "Helps care for a parent with dementia.",
    ),
    # 45-64
    (
        "Enjoys fishing and home improvement projects.",
        "Sings in a church choir.",
        "Worries about affording retirement.",
        "Walks the dog twice a day and gardens.",
    ),
    # 65-79
    (
        "Spends weekends with the grandchildren.",
        "Volunteers at the local food bank.",
        "Plays cards with old friends every Thursday.",
        "Tends an allotment and swaps produce with neighbors.",
    ),
    # 80+
    (
        "Enjoys telling stories about the old days.",
        "Reads large-print mysteries and does crosswords.",
        "Misses driving and relies on family for lifts.",
        "Still attends religious services every week.",
    ),
)

_STYLES = (
    "Chatty and warm; wanders off topic into family stories.",
    "Brief and to the point; answers only what is asked.",
    "Anxious and asks many follow-up questions.",
    "Polite and deferential; reluctant to question the doctor.",
    "Skeptical; wants evidence before changing anything.",
    "Humorous; uses jokes to deflect from worries.",
    "Methodical; keeps notes and lists of questions.",
    "Guarded at first; opens up once trust is built.",
)

# Weighted so most people land in the middle, as in the general population.
_LITERACY = ("low", "moderate", "moderate", "moderate", "high", "high")
_GENDERS = ("female",) * 49 + ("male",) * 49 + ("non-binary",) * 2
_SMOKING = ("Never", "Never", "Never", "Former; quit 10 years ago", "Current; half a pack a day")
_ALCOHOL = (
    "None",
    "Rarely",
    "1–2 drinks a week",
    "A glass of wine most evenings",
    "Heavy on weekends",
)
_EXERCISE = (
    "Walks 30 minutes most days",
    "Gym three times a week",
    "Little regular exercise",
    "Swims weekly",
    "Physically active job; no formal exercise",
)
_GENERIC_CONCERNS = (
    "Cost of medications",
    "Getting time off work for appointments",
    "Understanding test results",
    "Staying independent",
    "Long waits to see a doctor",
)

# Encounters and labs fall in 2024-01-01 .. 2026-10-31.
_START = dt.date(2024, 1, 1)
_DATES = tuple(
    (_START + dt.timedelta(days=i)).isoformat()
    for i in range((dt.date(2026, 10, 31) - _START).days + 1)
)
_LAST_DATE_INDEX = len(_DATES) - 1
# First date index of each (year, month) in range, to keep encounters after a diagnosis.
_MONTH_START = {
    (int(day[:4]), int(day[5:7])): i for i, day in enumerate(_DATES) if day.endswith("-01")
}


def _age_band(age: int) -> int:
    """Index into the age-banded pools (18-29, 30-44, 45-64, 65-79, 80+)."""
    if age < 30:
        return 0
    if age < 45:
        return 1
    if age < 65:
        return 2
    if age < 80:
        return 3
    return 4


# How many chronic conditions a person of each age band gets; older people carry more.
_CONDITION_COUNTS = (
    (0, 0, 1, 1, 2),
    (0, 1, 1, 2, 2),
    (1, 1, 2, 2, 3),
    (1, 2, 2, 3, 3),
    (2, 2, 3, 3, 4),
)

# Eligibility depends only on age and gender, so it is worked out once instead of per record.
_ELIGIBLE = {
    (age, gender): tuple(
        p for p in _PROFILES if p["ages"][0] <= age <= p["ages"][1] and p["sex"] in (_ANY, gender)
    )
    for age in range(19, 92)
    for gender in ("female", "male", "non-binary")
}

# (pronoun, "has"/"have", "is"/"are") so backgrounds read naturally for every gender.
_PRONOUNS = {"female": ("She", "has", "is"), "male": ("He", "has", "is")}
_THEY = ("They", "have", "are")


def _with_article(title: str) -> str:
    return ("an " if title[0].lower() in "aeiou" else "a ") + title.lower()


_JOB_PHRASES = tuple(_with_article(title) for title, _ in _JOBS)
_STUDENT_PHRASES = tuple(_with_article(title) for title, _ in _STUDENT_JOBS)


# Draws go through rng.random() rather than rng.choice()/randint(): those cost several Python
# calls each and dominated the profile, while a float scaled to an index is one C call.
# Both are driven by the same seeded Random, so determinism is unaffected.
def _pick(rnd: Callable[[], float], seq: Sequence[_T]) -> _T:
    return seq[int(rnd() * len(seq))]


def _between(rnd: Callable[[], float], low: int, high: int) -> int:
    """Uniform integer in [low, high], inclusive like random.randint."""
    return low + int(rnd() * (high - low + 1))


def _pick_profiles(rnd: Callable[[], float], age: int, gender: str) -> list[dict]:
    """Choose a clinically compatible set of condition profiles for one person."""
    wanted = _pick(rnd, _CONDITION_COUNTS[_age_band(age)])
    if wanted == 0:
        return []
    pool = _ELIGIBLE[(age, gender)]
    picked: list[dict] = []
    groups: set[str] = set()
    pregnant = False
    # A few spare draws, because a repeat or an incompatible pick is skipped rather than redrawn.
    for _ in range(wanted + 3):
        profile = _pick(rnd, pool)
        # One profile per group: no type 1 and type 2 diabetes, no asthma and COPD together.
        if profile["group"] in groups:
            continue
        # Pregnancy only combines with conditions whose medicines are safe in pregnancy.
        if profile["key"] == "pregnancy":
            if not all(p.get("pregnancy_safe", False) for p in picked):
                continue
            pregnant = True
        elif pregnant and not profile.get("pregnancy_safe", False):
            continue
        picked.append(profile)
        groups.add(profile["group"])
        if len(picked) == wanted:
            break
    return picked


def _diagnosed(rnd: Callable[[], float], profile: dict, age: int) -> tuple[str, int]:
    """Diagnosis date, and the first date index an encounter for it may use.

    Recent diagnoses carry a month, as a real chart would show; older ones just a year.
    """
    years_ago = _between(rnd, 0, max(0, min(profile["max_years"], age - profile["ages"][0])))
    year = 2026 - years_ago
    if years_ago <= 1:
        month = _between(rnd, 1, 9)
        return f"{year}-{month:02d}", _MONTH_START[(year, month)]
    return str(year), _MONTH_START.get((year, 1), 0)


def _encounter(rnd: Callable[[], float], options: Sequence[tuple], first_index: int) -> dict:
    etype, reason, notes = _pick(rnd, options)
    date = _DATES[_between(rnd, first_index, _LAST_DATE_INDEX)]
    return {"date": date, "type": etype, "reason": reason, "notes": notes}


def _make_record(rnd: Callable[[], float], persona_id: int) -> dict:
    """Build one matched persona; every draw comes from ``rnd`` so the output is reproducible."""
    age = _between(rnd, 19, 91)
    gender = _pick(rnd, _GENDERS)
    band = _age_band(age)
    heritage, female, male, neutral, surnames, locations = _pick(rnd, _CULTURES)
    first = _pick(rnd, female if gender == "female" else male if gender == "male" else neutral)
    pronoun, has, is_ = _PRONOUNS.get(gender, _THEY)

    if age < 23:
        job_index = int(rnd() * len(_STUDENT_JOBS))
        occupation, education = _STUDENT_JOBS[job_index]
        job_sentence = f"{pronoun} {is_} currently {_STUDENT_PHRASES[job_index]}."
    else:
        job_index = int(rnd() * len(_JOBS))
        title, education = _JOBS[job_index]
        if age >= 67:
            occupation = f"Retired {title.lower()}"
            years = _between(rnd, 20, 45)
            job_sentence = f"{pronoun} retired after {years} years as {_JOB_PHRASES[job_index]}."
        else:
            occupation = title
            years = _between(rnd, 2, age - 20)
            job_sentence = f"{pronoun} {has} worked as {_JOB_PHRASES[job_index]} for {years} years."

    profiles = _pick_profiles(rnd, age, gender)

    conditions = []
    medications = []
    encounters = []
    concerns = []
    drug_classes: set[str] = set()
    for profile in profiles:
        diagnosed, first_index = _diagnosed(rnd, profile, age)
        conditions.append(
            {
                "name": profile["name"],
                "diagnosed": diagnosed,
                "status": _pick(rnd, profile["statuses"]),
            }
        )
        for drug_class, medication in _MED_ENTRIES[profile["key"]]:
            if drug_class not in drug_classes:
                drug_classes.add(drug_class)
                medications.append(medication.copy())
        encounters.append(_encounter(rnd, profile["encounters"], first_index))
        concerns.append(_pick(rnd, profile["concerns"]))
    if not encounters or rnd() < 0.3:
        encounters.append(_encounter(rnd, _ROUTINE_ENCOUNTERS, 0))
    concerns.append(_pick(rnd, _GENERIC_CONCERNS))
    encounters.sort(key=lambda e: e["date"])
    # The newest encounter dates the vitals and labs, so the chart reads as one recent visit.
    latest = encounters[-1]["date"]

    labs = []
    tests: set[str] = set()
    for profile in profiles:
        for test, low, high, decimals, unit in profile["labs"]:
            if test in tests:
                continue
            tests.add(test)
            if isinstance(low, str):
                value = low
            elif decimals:
                value = round(low + rnd() * (high - low), decimals)
            else:
                value = round(low + rnd() * (high - low))
            labs.append({"test": test, "value": value, "unit": unit, "date": latest})

    # Body size by gender; a profile may raise the BMI range (sleep apnea goes with obesity).
    height_cm = round((176.0 if gender == "male" else 163.0) + (rnd() - 0.5) * 24.0)
    bmi_low, bmi_high = 19.0, 33.0
    hypertensive = False
    smoking = _SMOKING
    for profile in profiles:
        bmi_low, bmi_high = profile.get("bmi", (bmi_low, bmi_high))
        smoking = profile.get("smoking", smoking)
        hypertensive = hypertensive or profile["key"] == "htn"
    height_m2 = (height_cm / 100.0) ** 2
    weight_kg = round((bmi_low + rnd() * (bmi_high - bmi_low)) * height_m2, 1)
    systolic = _between(rnd, 105, 128) + age // 6 + (12 if hypertensive else 0)
    diastolic = _between(rnd, 64, 82) + (6 if hypertensive else 0)

    # About 60% of people have no recorded allergy, as in a typical primary-care list.
    allergy_roll = rnd()
    allergies = []
    if allergy_roll >= 0.6:
        substance, reaction = _pick(rnd, _ALLERGIES)
        allergies.append({"substance": substance, "reaction": reaction})
        if allergy_roll >= 0.9:
            second, reaction = _pick(rnd, _ALLERGIES)
            if second != substance:
                allergies.append({"substance": second, "reaction": reaction})

    return {
        "persona_id": persona_id,
        "persona": {
            "name": f"{first} {_pick(rnd, surnames)}",
            "age": age,
            "gender": gender,
            "occupation": occupation,
            "location": _pick(rnd, locations),
            "background": (
                f"{first} grew up in {heritage} family. {job_sentence} {_pick(rnd, _DETAILS[band])}"
            ),
            "living_situation": _pick(rnd, _LIVING[band]),
            "education": education,
            "communication_style": _pick(rnd, _STYLES),
            "health_literacy": _pick(rnd, _LITERACY),
            "concerns": concerns,
        },
        "health_record": {
            "conditions": conditions,
            "medications": medications,
            "allergies": allergies,
            "vitals": {
                "blood_pressure": f"{systolic}/{diastolic}",
                "heart_rate": _between(rnd, 56, 96),
                "bmi": round(weight_kg / height_m2, 1),
                "weight_kg": weight_kg,
                "height_cm": height_cm,
                "recorded": latest,
            },
            "labs": labs,
            "recent_encounters": encounters,
            "social_history": {
                "smoking": _pick(rnd, smoking),
                "alcohol": _pick(rnd, _ALCOHOL),
                "exercise": _pick(rnd, _EXERCISE),
            },
        },
    }


def iter_sample_personas(count: int, seed: int = 0, start_id: int = 0) -> Iterator[dict]:
    """Yield ``count`` synthetic matched-persona records, one at a time.

    Records get ``persona_id = start_id + i``. The people themselves depend only on ``seed``:
    the same seed always yields the same sequence (and, serialized, the same bytes) whatever
    ``start_id`` is, so use a different seed when you want a different population.

    Raises:
        ValueError: if ``count`` is negative (raised at call time, not on first iteration).
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    return _generate(count, seed, start_id)


def _generate(count: int, seed: int, start_id: int) -> Iterator[dict]:
    # Kept apart from iter_sample_personas so its argument check runs eagerly: a generator
    # function's body would not run until the first next().
    rnd = random.Random(seed).random
    for i in range(count):
        yield _make_record(rnd, start_id + i)


def write_sample_personas(out: Path, count: int, seed: int = 0) -> int:
    """Stream ``count`` synthetic records to ``out`` as JSONL and return how many were written.

    Each record is serialized and written as soon as it is generated, so memory stays flat even
    for millions of records. Parent directories are created; an existing file is replaced.

    Raises:
        ValueError: if ``count`` is negative (checked before the file is touched).
    """
    records = iter_sample_personas(count, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    # A large buffer matters here: with the default 8 KiB one, write syscalls cost about as
    # much as serializing.
    with out.open("wb", buffering=1 << 20) as f:
        for record in records:
            f.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            written += 1
    return written
