"""Open area-level statistics for the synthetic public sector, one local authority at a time.

These tables are sized by the real areas (not by the simulated population), so their scale looks like the
published series. They hang together: weather drives heating demand and domestic emissions, traffic drives
transport emissions, deprivation drives crime, older and more deprived places wait longer for treatment, and the
pandemic shows in traffic, crime and waiting lists as it did.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.demo import _world_reference as ref

MONTHS = pd.date_range("2019-04-01", "2026-03-01", freq="MS")
WEATHER_MONTHS = pd.date_range("2019-01-01", "2026-03-01", freq="MS")
POP_YEARS = np.arange(2019, 2026)
ENERGY_YEARS = np.arange(2019, 2025)

_erf = np.frompyfunc(math.erf, 1, 1)


def _key(months: pd.DatetimeIndex) -> np.ndarray:
    return (months.year * 100 + months.month).to_numpy()


def _month_factor(months: pd.DatetimeIndex, table: dict[int, float], default: float = 1.0) -> np.ndarray:
    """Per-month multipliers from a {yyyymm: factor} table."""
    return np.array([table.get(int(k), default) for k in _key(months)])


def _grid(las: pd.DataFrame, periods: np.ndarray | pd.DatetimeIndex, groups: tuple[str, ...] | None = None
          ) -> dict[str, np.ndarray]:
    """Index arrays for every (authority, period[, group]) combination, period varying fastest after group."""
    n_l, n_p = len(las), len(periods)
    n_g = len(groups) if groups else 1
    la = np.repeat(np.arange(n_l), n_p * n_g)
    per = np.tile(np.repeat(np.arange(n_p), n_g), n_l)
    grp = np.tile(np.arange(n_g), n_l * n_p)
    return {"la": la, "period": per, "group": grp}


def _population_by_year(las: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Residents per authority and year (2019-2025), growing at an area-specific rate."""
    growth = rng.normal(0.006, 0.004, len(las))
    base = las["population_k"].to_numpy(float) * 1000
    return base[:, None] * (1 + growth[:, None]) ** (POP_YEARS[None, :] - 2022)


def _weather(las: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    months = WEATHER_MONTHS
    lat, lon = las["lat"].to_numpy(), las["lon"].to_numpy()
    upland = las["upland"].to_numpy()
    mon, yr = months.month.to_numpy(), months.year.to_numpy()
    clim = 10.2 - 0.55 * (lat - 52.5) - 1.0 * upland + 0.4 * (las["region"] == "London").to_numpy()
    amp = 6.2 + 0.25 * (lon + 2)
    seasonal = -np.cos(2 * np.pi * (mon - 1.5) / 12)
    events = {202002: 1.2, 202101: -1.3, 202104: -1.6, 202207: 1.6, 202212: -2.0, 202306: 2.2, 202309: 2.5,
              202402: 2.3, 202504: 1.5, 202506: 1.8}
    anomaly = rng.normal(0, 0.9, len(months)) + _month_factor(months, events, 0.0) + 0.03 * (yr - 2019)
    temp = (clim[:, None] + amp[:, None] * seasonal[None, :] + anomaly[None, :]
            + rng.normal(0, 0.3, (len(las), len(months))))
    wet_events = {202002: 2.2, 202010: 1.5, 202207: 0.3, 202208: 0.5, 202310: 1.6, 202311: 1.3, 202504: 0.3}
    wet = np.exp(rng.normal(0, 0.3, len(months))) * _month_factor(months, wet_events)
    annual = 700 + 180 * np.maximum(0, -lon - 2) + 300 * upland
    rain = (annual[:, None] / 12 * (1 + 0.25 * np.cos(2 * np.pi * (mon - 11.5) / 12))[None, :] * wet[None, :]
            * rng.gamma(8, 1 / 8, (len(las), len(months))))
    sun = np.clip((45 + 75 * (seasonal + 1))[None, :] * (1.05 - 0.25 * (wet[None, :] - 1))
                  * np.exp(rng.normal(0, 0.08, rain.shape)) * (1 - 0.01 * (lat[:, None] - 52)), 10, None)
    days = months.days_in_month.to_numpy()
    sigma = 3.0
    z = (15.5 - temp) / sigma
    cdf = 0.5 * (1 + _erf(z / math.sqrt(2)).astype(float))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    hdd = days[None, :] * sigma * (z * cdf + pdf)
    g = _grid(las, months)
    df = pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[g["la"]],
        "month": months.to_numpy()[g["period"]],
        "mean_temperature_c": np.round(temp.ravel(), 1),
        "rainfall_mm": np.round(rain.ravel(), 1),
        "sunshine_hours": np.round(sun.ravel(), 1),
        "heating_degree_days": np.round(hdd.ravel(), 1),
    })
    return df, hdd


def _traffic(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray, temp_rain: tuple[np.ndarray, np.ndarray]
             ) -> tuple[pd.DataFrame, np.ndarray]:
    months = MONTHS
    n_l, n_m, n_v = len(las), len(months), len(ref.VEHICLE_TYPES)
    urban = las["urban_rural"].map({ref.URBAN: 0.85, ref.MIXED: 1.15, ref.RURAL: 1.5}).to_numpy()
    london = (las["region"] == "London").to_numpy()
    cars_pc = 3900 * urban * np.where(london, 0.45, 1.0)
    names = las["name"].to_numpy()
    cycling = np.where(np.isin(names, ["Cambridge"]), 8.0, np.where(np.isin(names, ["Oxford"]), 6.0,
                       np.where(np.isin(names, ["York", "Bristol, City of"]), 3.0, np.where(london, 2.5, 1.0))))
    share = np.stack([np.ones(n_l), np.full(n_l, 0.19), 0.05 * (0.6 + las["industry"].to_numpy() * 0.4),
                      0.01 * np.where(london, 3.0, 1.0), 0.01 * cycling], axis=1)   # relative to cars
    year_idx = np.clip(months.year.to_numpy() - 2019, 0, len(POP_YEARS) - 1)
    mon = months.month.to_numpy()
    days = months.days_in_month.to_numpy()
    covid_cars = {202004: 0.35, 202005: 0.5, 202006: 0.68, 202007: 0.82, 202008: 0.9, 202009: 0.92,
                  202010: 0.9, 202011: 0.75, 202012: 0.85, 202101: 0.62, 202102: 0.68, 202103: 0.78,
                  202104: 0.88, 202105: 0.92, 202106: 0.95}
    covid = _month_factor(months, covid_cars)
    seasonal = np.stack([1 + 0.06 * np.cos(2 * np.pi * (mon - 7.5) / 12), 1 + 0.03 * np.cos(2 * np.pi * (mon - 7) / 12),
                         1 - 0.03 * (mon == 12), 1 - 0.05 * np.isin(mon, [8, 12]),
                         1 + 0.4 * np.cos(2 * np.pi * (mon - 7) / 12)], axis=1)          # months x vehicle
    pandemic = np.stack([covid, 1 - 0.6 * (1 - covid), 1 - 0.3 * (1 - covid), 1 - 0.8 * (1 - covid),
                         np.where(np.isin(_key(months), [202004, 202005, 202006]), 1.5, 1.0)], axis=1)
    yrs = months.year.to_numpy()
    trend = np.stack([1 - 0.01 * np.clip(yrs - 2021, 0, None), 1 + 0.02 * (yrs - 2019), np.ones(n_m),
                      1 - 0.01 * (yrs - 2019), 1 + 0.01 * (yrs - 2019)], axis=1)
    temp, rain = temp_rain
    weather = np.ones((n_l, n_m, n_v))
    weather[:, :, 4] = np.exp(-0.004 * (rain - rain.mean(axis=1, keepdims=True)) + 0.02 * (temp - 10))
    annual_miles = pop[:, year_idx] * cars_pc[:, None] / 1e6                   # million car miles / year
    miles = (annual_miles[:, :, None] * share[:, None, :] * (days / 365.25)[None, :, None]
             * seasonal[None] * pandemic[None] * trend[None] * weather
             * np.exp(rng.normal(0, 0.02, (n_l, n_m, n_v))))
    g = _grid(las, months, ref.VEHICLE_TYPES)
    df = pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[g["la"]],
        "month": months.to_numpy()[g["period"]],
        "vehicle_type": np.array(ref.VEHICLE_TYPES, dtype=object)[g["group"]],
        "vehicle_miles_millions": np.round(miles.ravel(), 3),
    })
    return df, miles


def _crime(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray) -> pd.DataFrame:
    months = MONTHS
    n_l, n_m, n_g = len(las), len(months), len(ref.CRIME_GROUPS)
    groups = np.array(ref.CRIME_GROUPS)
    imd = las["imd"].to_numpy()
    deprivation_led = np.isin(groups, ["Violence against the person", "Criminal damage and arson",
                                       "Public order offences", "Drug offences", "Possession of weapons offences",
                                       "Robbery", "Burglary"])
    dep = np.exp(np.where(deprivation_led[None, :], 0.03, 0.015) * (imd[:, None] - 22))
    rural = las["urban_rural"].map({ref.URBAN: 1.0, ref.MIXED: 0.85, ref.RURAL: 0.7}).to_numpy()
    names = las["name"].to_numpy()
    theft = np.isin(groups, ["Theft from the person", "Shoplifting", "Other theft offences", "Robbery"])
    centre = np.where(names == "Westminster", 4.0, np.where(np.isin(names, ["Camden", "Manchester", "Leeds",
                                                                             "Birmingham"]), 1.6, 1.0))
    place = np.where(theft[None, :], centre[:, None], 1.0) * rural[:, None] * np.exp(rng.normal(0, 0.12, (n_l, 1)))
    mon = months.month.to_numpy()
    seasonal = np.ones((n_m, n_g))
    seasonal[:, groups == "Violence against the person"] *= (1 + 0.08 * np.cos(2 * np.pi * (mon - 7) / 12))[:, None]
    seasonal[:, groups == "Public order offences"] *= (1 + 0.06 * np.cos(2 * np.pi * (mon - 7) / 12))[:, None]
    seasonal[:, groups == "Burglary"] *= (1 + 0.12 * np.cos(2 * np.pi * (mon - 12) / 12))[:, None]
    seasonal[:, groups == "Shoplifting"] *= (1 + 0.15 * (mon == 12))[:, None]
    lockdown = {202004: 0.55, 202005: 0.6, 202006: 0.8, 202011: 0.8, 202101: 0.7, 202102: 0.72, 202103: 0.85}
    covid = np.ones((n_m, n_g))
    lock = _month_factor(months, lockdown)
    covid[:, theft | (groups == "Burglary")] = lock[:, None]
    covid[:, groups == "Violence against the person"] = (1 - 0.4 * (1 - lock))[:, None]
    covid[:, groups == "Drug offences"] = (1 + 0.8 * (1 - lock))[:, None]
    t = (months.year.to_numpy() + (mon - 1) / 12) - 2019.25
    trend = np.ones((n_m, n_g))
    trend[:, groups == "Shoplifting"] = (1 + 0.25 * np.clip(t - 3.25, 0, None))[:, None]
    trend[:, groups == "Sexual offences"] = (1 + 0.04 * t)[:, None]
    trend[:, groups == "Burglary"] = (1 - 0.04 * t)[:, None]
    year_idx = np.clip(months.year.to_numpy() - 2019, 0, len(POP_YEARS) - 1)
    days = months.days_in_month.to_numpy()
    rate = np.array(ref.CRIME_RATES)
    expected = (pop[:, year_idx, None] / 1000 * rate[None, None, :] * (days / 365.25)[None, :, None]
                * dep[:, None, :] * place[:, None, :] * seasonal[None] * covid[None] * trend[None])
    counts = rng.poisson(expected)
    g = _grid(las, months, ref.CRIME_GROUPS)
    return pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[g["la"]],
        "police_force_area": las["police"].to_numpy(dtype=object)[g["la"]],
        "month": months.to_numpy()[g["period"]],
        "offence_group": groups.astype(object)[g["group"]],
        "offences": counts.ravel().astype(np.int64),
    })


def _population_estimates(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray) -> pd.DataFrame:
    bands = np.array(ref.AGE_BANDS)
    share = np.array(ref.AGE_BAND_SHARES, float)
    lo = np.array([int(b.rstrip("+").split("-")[0]) for b in bands])
    tilt = np.ones((len(las), bands.size))
    profile = las["profile"].to_numpy()
    london = (las["region"] == "London").to_numpy()
    student = {15: 1.4, 20: 1.9, 25: 1.5, 30: 1.2}
    for i, age in enumerate(lo):
        tilt[profile == "student", i] *= student.get(age, 0.7 if age >= 65 else 1.0)
        tilt[profile == "older", i] *= 0.75 if 20 <= age < 35 else (1.15 if 55 <= age < 65 else
                                                                     (1.45 if age >= 65 else 1.0))
        tilt[london & (profile != "student"), i] *= 1.2 if 25 <= age < 45 else (0.8 if age >= 65 else 1.0)
    shares = share[None, :] * tilt * np.exp(rng.normal(0, 0.03, tilt.shape))
    shares /= shares.sum(axis=1, keepdims=True)
    female = np.select([lo < 20, lo < 60, lo < 75, lo < 85, lo < 90], [0.488, 0.5, 0.52, 0.56, 0.63], 0.71)
    sex_share = np.stack([female, 1 - female], axis=0)                                 # sex x band
    n_y = POP_YEARS.size
    counts = (pop[:, :, None, None] * shares[:, None, None, :] * sex_share[None, None, :, :]
              * np.exp(rng.normal(0, 0.01, (len(las), n_y, 2, bands.size))))
    n_l = len(las)
    la = np.repeat(np.arange(n_l), n_y * 2 * bands.size)
    year = np.tile(np.repeat(POP_YEARS, 2 * bands.size), n_l)
    sex = np.tile(np.repeat(np.arange(2), bands.size), n_l * n_y)
    band = np.tile(np.arange(bands.size), n_l * n_y * 2)
    return pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[la],
        "la_name": las["name"].to_numpy(dtype=object)[la],
        "region": las["region"].to_numpy(dtype=object)[la],
        "year": year.astype(np.int64),
        "sex": np.array(ref.SEX, dtype=object)[sex],
        "age_band": bands.astype(object)[band],
        "population": np.round(counts.ravel()).astype(np.int64),
    })


def _annual(values: np.ndarray, months: pd.DatetimeIndex, years: np.ndarray) -> np.ndarray:
    """Sum a (authority x month [x ...]) array into calendar years."""
    out = np.stack([values[:, months.year.to_numpy() == y].sum(axis=1) for y in years], axis=1)
    return out


def _energy(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray, hdd_year: np.ndarray
            ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    years = ENERGY_YEARS
    n_l, n_y = len(las), years.size
    pop_y = pop[:, : n_y]
    households = pop_y / 2.3
    gas_share = las["gas_share"].to_numpy()
    imd = las["imd"].to_numpy()
    gas_meters = np.round(households * gas_share[:, None] * np.exp(rng.normal(0, 0.01, (n_l, n_y))))
    elec_meters = np.round(households * 1.03 * np.exp(rng.normal(0, 0.005, (n_l, n_y))))
    price = {2019: 1.0, 2020: 1.03, 2021: 1.01, 2022: 0.88, 2023: 0.86, 2024: 0.88}
    response = np.array([price[int(y)] for y in years])
    gas_mean = (12000 * (hdd_year / hdd_year.mean()) ** 0.8 * (1 - 0.006 * (imd[:, None] - 22))
                * response[None, :] * (1 - 0.01 * (years - 2019))[None, :] * np.exp(rng.normal(0, 0.02, (n_l, n_y))))
    elec_response = np.array([{2020: 1.04, 2022: 0.92, 2023: 0.9, 2024: 0.91}.get(int(y), 1.0) for y in years])
    elec_mean = (3700 * (1 + 0.6 * (1 - gas_share))[:, None] * elec_response[None, :]
                 * (1 + 0.1 * (hdd_year / hdd_year.mean() - 1)) * np.exp(rng.normal(0, 0.02, (n_l, n_y))))
    meters = np.stack([gas_meters, elec_meters], axis=2)
    mean = np.stack([gas_mean, elec_mean], axis=2)
    gwh = meters * mean / 1e6
    g = _grid(las, years, ref.FUELS)
    df = pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[g["la"]],
        "year": years[g["period"]].astype(np.int64),
        "fuel": np.array(ref.FUELS, dtype=object)[g["group"]],
        "meters": meters.ravel().astype(np.int64),
        "consumption_gwh": np.round(gwh.ravel(), 2),
        "mean_kwh_per_meter": np.round(mean.ravel(), 0),
    })
    return df, gwh[:, :, 0], gwh[:, :, 1]


def _emissions(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray, gas_gwh: np.ndarray,
               elec_gwh: np.ndarray, road_miles: np.ndarray) -> pd.DataFrame:
    years = ENERGY_YEARS
    n_l, n_y = len(las), years.size
    pop_y = pop[:, :n_y] / 1000                                            # thousands
    grid = np.array([{2019: 0.256, 2020: 0.233, 2021: 0.212, 2022: 0.193, 2023: 0.207, 2024: 0.17}[int(y)]
                     for y in years])                                      # kt CO2e per GWh
    gas_share = las["gas_share"].to_numpy()
    oil = pop_y / 2.3 * (1 - gas_share)[:, None] * 12000 * 0.25 / 1e3     # thousand homes x kWh -> kt
    domestic = gas_gwh * 0.183 + elec_gwh * grid[None, :] + oil
    factors = np.array([0.27, 0.37, 1.3, 1.2, 0.0])                        # kt per million vehicle miles
    road = (road_miles * factors[None, None, :]).sum(axis=2)
    transport = _annual(road, MONTHS, years) * 1.1 * (1 - 0.015 * (years - 2019))[None, :]
    transport[:, 0] *= 12 / 9                                              # traffic starts in April 2019
    trend = (1 - 0.03 * (years - 2019)) * np.where(years == 2020, 0.92, 1.0)
    names = las["name"].to_numpy()
    centre = np.where(np.isin(names, ["Westminster", "Camden"]), 2.0, 1.0)
    farming = las["farming"].to_numpy()
    noise = lambda: np.exp(rng.normal(0, 0.04, (n_l, n_y)))  # noqa: E731
    sectors = np.stack([
        pop_y * 1.2 * las["industry"].to_numpy()[:, None] * trend[None, :] * noise(),
        pop_y * 0.55 * centre[:, None] * (grid / grid[0])[None, :] * noise(),
        pop_y * 0.2 * (grid / grid[0])[None, :] * noise(),
        domestic,
        transport,
        pop_y * 0.5 * farming[:, None] * noise(),
        pop_y * 0.1 * trend[None, :] * noise(),
        pop_y * (0.02 - 0.15 * farming[:, None]) * noise(),
    ], axis=2)
    g = _grid(las, years, ref.EMISSION_SECTORS)
    return pd.DataFrame({
        "la_code": las["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[g["la"]],
        "region": las["region"].to_numpy(dtype=object)[g["la"]],
        "year": years[g["period"]].astype(np.int64),
        "sector": np.array(ref.EMISSION_SECTORS, dtype=object)[g["group"]],
        "emissions_kt_co2e": np.round(sectors.ravel(), 2),
    })


def _rtt(las: pd.DataFrame, rng: np.random.Generator, pop: np.ndarray) -> pd.DataFrame:
    eng = las[las["england"]].reset_index(drop=True)
    keep = las["england"].to_numpy()
    months = MONTHS
    n_l, n_m, n_t = len(eng), len(months), len(ref.TREATMENT_FUNCTIONS)
    t = (months.year.to_numpy() + (months.month.to_numpy() - 1) / 12)
    knots = [2019.25, 2020.17, 2020.5, 2021.17, 2022.17, 2023.67, 2024.67, 2026.17]
    per_1000 = np.interp(t, knots, [78, 80, 70, 83, 110, 137, 133, 125])
    over18 = np.interp(t, knots, [0.14, 0.16, 0.48, 0.36, 0.38, 0.42, 0.41, 0.39])
    over52 = np.interp(t, knots, [0.0004, 0.001, 0.016, 0.08, 0.05, 0.052, 0.04, 0.025])
    median = np.interp(t, knots, [7.0, 7.5, 19.0, 13.0, 13.0, 15.0, 14.0, 13.0])
    imd = eng["imd"].to_numpy()
    need = ((1 + 0.01 * (imd - 22)) * np.where(eng["profile"].to_numpy() == "older", 1.2, 1.0)
            * np.exp(rng.normal(0, 0.12, n_l)))
    performance = np.exp(rng.normal(0, 0.15, n_l))
    year_idx = np.clip(months.year.to_numpy() - 2019, 0, len(POP_YEARS) - 1)
    tf_share = np.array(ref.TREATMENT_SHARES) * np.exp(rng.normal(0, 0.1, (n_l, n_t)))
    tf_share /= tf_share.sum(axis=1, keepdims=True)
    tf_wait = np.array([1.3, 1.1, 1.2, 1.1, 1.25, 1.1, 1.0, 0.9, 1.05, 0.95])
    total = (pop[keep][:, year_idx, None] / 1000 * per_1000[None, :, None] * need[:, None, None]
             * tf_share[:, None, :] * np.exp(rng.normal(0, 0.03, (n_l, n_m, n_t))))
    total = np.round(total).astype(np.int64)
    p18 = np.clip(over18[None, :, None] * performance[:, None, None] * tf_wait[None, None, :], 0, 0.95)
    n18 = rng.binomial(total, p18)
    p52 = np.clip(over52[None, :, None] / over18[None, :, None] * performance[:, None, None] * tf_wait[None, None, :],
                  0, 0.9)
    n52 = rng.binomial(n18, p52)
    med = median[None, :, None] * performance[:, None, None] ** 0.7 * tf_wait[None, None, :]
    med = np.round(med * np.exp(rng.normal(0, 0.05, med.shape)), 1)
    g = _grid(eng, months, ref.TREATMENT_FUNCTIONS)
    return pd.DataFrame({
        "la_code": eng["code"].to_numpy(dtype=object)[g["la"]],
        "la_name": eng["name"].to_numpy(dtype=object)[g["la"]],
        "month": months.to_numpy()[g["period"]],
        "treatment_function": np.array(ref.TREATMENT_FUNCTIONS, dtype=object)[g["group"]],
        "incomplete_pathways": total.ravel(),
        "waiting_over_18_weeks": n18.ravel().astype(np.int64),
        "waiting_over_52_weeks": n52.ravel().astype(np.int64),
        "median_wait_weeks": med.ravel(),
    })


def _authorities(las: pd.DataFrame) -> pd.DataFrame:
    rank = las["imd"].rank(ascending=False, method="first").astype(np.int64)
    return pd.DataFrame({
        "la_code": las["code"].astype(object),
        "la_name": las["name"].astype(object),
        "region": las["region"].astype(object),
        "country": np.where(las["code"].str.startswith("W"), "Wales", "England").astype(object),
        "urban_rural": las["urban_rural"].astype(object),
        "imd_average_score": las["imd"].astype(float),
        "imd_rank": rank.to_numpy(),
        "police_force_area": las["police"].astype(object),
        "postcode_districts": las["districts"].astype(object),
    })


def build_area_datasets(rng: np.random.Generator, las: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """All open area-level datasets, keyed by local dataset id."""
    r = rng.spawn(8)
    pop = _population_by_year(las, r[0])
    weather, hdd = _weather(las, r[1])
    in_window = MONTHS[0] <= WEATHER_MONTHS
    temp = weather["mean_temperature_c"].to_numpy().reshape(len(las), -1)[:, in_window]
    rain = weather["rainfall_mm"].to_numpy().reshape(len(las), -1)[:, in_window]
    traffic, miles = _traffic(las, r[2], pop, (temp, rain))
    hdd_year = _annual(hdd, WEATHER_MONTHS, ENERGY_YEARS)
    energy, gas_gwh, elec_gwh = _energy(las, r[3], pop, hdd_year)
    return {
        "ons.population_estimates": _population_estimates(las, r[4], pop),
        "ons.local_authorities": _authorities(las),
        "ho.recorded_crime": _crime(las, r[5], pop),
        "dft.road_traffic": traffic,
        "desnz.emissions_by_area": _emissions(las, r[6], pop, gas_gwh, elec_gwh, miles),
        "desnz.domestic_energy": energy,
        "metoffice.weather_by_area": weather,
        "nhse.rtt_waiting": _rtt(las, r[7], pop),
    }
